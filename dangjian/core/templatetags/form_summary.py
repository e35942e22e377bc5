from django import template

register = template.Library()


@register.simple_tag
def summary_due(form) -> bool:
    """True the first time a form's error summary is asked for on a page, False after: a page that
    puts the summary (with its formset) at its top and then includes `_form_fields.html`, which
    brings the summary too, shows it once."""
    if form in (None, "") or getattr(form, "_error_summary_shown", False):
        return False
    try:
        form._error_summary_shown = True
    except AttributeError:
        return False
    return True
