# The two commands: `make run` and `make test`. Everything else here serves them.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
export DEBUG ?= 1

.PHONY: run test setup assets migrate demo lint check bench bench-city clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	touch $@

setup: $(VENV)/.installed node_modules/.installed
	mkdir -p var

assets: setup

migrate: setup
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py demo

run: demo
	@echo "Serving on http://127.0.0.1:8000/  (Ctrl-C to stop)"
	$(PY) manage.py runserver 127.0.0.1:8000

test: setup
	$(VENV)/bin/ruff check .
	$(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/pytest -n 2 -m "not browser"
	scripts/ensure-chromium
	$(VENV)/bin/pytest -m browser

lint: setup
	$(VENV)/bin/ruff check .

bench: setup
	$(PY) bench/member_list.py

# The city benchmark (bench/city.py, bench/city_pages.py): SCALE=1 for the whole city (slow to build).
SCALE ?= 0.1
bench-city: setup
	$(PY) bench/city_pages.py --scale $(SCALE) --write --explain
	$(PY) bench/city_pages.py --scale $(SCALE) --pg --write --explain

clean:
	rm -rf $(VENV) node_modules var
