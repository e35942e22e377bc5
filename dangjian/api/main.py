"""The JSON API: one NinjaAPI, mounted at /api/ (schema at /api/openapi.json).

Access, the same rules as the pages (`dangjian.access.policy` answers every question):

- **Lists** come from the policy's scoped querysets and show only what is in the caller's scope,
  which may be nothing: a role without the permission (the 三员, a unit liaison asking for
  members) gets an empty list, never 403. Filters naming something outside the scope (an
  organisation id, a parent code) give an empty list too, exactly as an unknown one does.
- **Details** go through `policy.get_*`: outside the scope, unknown, or no permission at all → 404,
  so a record's existence is never revealed.
- **Writes**: the record (or an organisation named in the body) must be visible, else 404 as above;
  visible but not the caller's to manage (a leader, a member looking at their own record) → 403,
  which tells them nothing they could not already read. Managing means `Perm.MANAGE_MEMBERS` on
  the member's organisation; creating needs it on the target organisation, transferring on both
  the current and the receiving organisation (so a branch secretary cannot move a member into a
  branch they do not run: such a transfer is done by a common superior, e.g. 机关党委).
- ID numbers are masked in every answer, the member's own included (the full number is a page
  action that asks for a reason and is audited); the birth date is given to the member themself
  only, and phones are full with `Perm.SEE_PHONE`: one decision shared with the pages,
  `organizations.selectors.member_numbers`.

Authentication: a bearer `ApiToken`, or the logged-in session with CSRF (see `auth`); 401 otherwise.
Errors are JSON `{"detail", "errors"}` with Chinese messages (see `errors`).

Layout: this package holds what is the API's own (this instance, authentication and tokens, the
error answers, the shared schema types); each area owns its routes and shapes in its `api.py`
(`dangjian.organizations.api`, `dangjian.orglife.api`), and they are mounted here in this order.

Every POST takes an optional `Idempotency-Key` header (`idempotency`); bodies are JSON only (415
otherwise) and at most DATA_UPLOAD_MAX_MEMORY_SIZE (413); every operation lists in the schema each
status it can answer, with the error body (`core.api` READ_ERRORS/DETAIL_ERRORS/WRITE_ERRORS).

The interactive docs page is off (`docs_url=None`): ninja's page loads Swagger UI from a CDN, and
this product runs on intranets where no asset may come from another host.
"""

from ninja import NinjaAPI
from ninja.renderers import JSONRenderer

from dangjian.api import errors, idempotency
from dangjian.api.auth import bearer_token, session
from dangjian.organizations import api as organizations
from dangjian.orglife import api as orglife


class ReadableJSON(JSONRenderer):
    json_dumps_params = {"ensure_ascii": False}  # Chinese as text, not \uXXXX escapes


class DangjianAPI(NinjaAPI):
    def get_openapi_schema(self, *args, **kwargs):
        return idempotency.describe(super().get_openapi_schema(*args, **kwargs))


api = DangjianAPI(
    title="党建工作管理平台 API",
    version="1",
    description="党组织、单位、党员的查询与党员花名册维护。权限与页面一致：只返回调用者权限范围内的数据。",
    urls_namespace="api",
    docs_url=None,
    auth=[bearer_token, session],
    renderer=ReadableJSON(),
    parser=errors.JsonOnlyParser(),
)
errors.install(api)
# ninja's "operation" mode wraps the view function (after authentication and validation), "view"
# mode the whole operation (the response made).
api.add_decorator(idempotency.reserve_or_replay, mode="operation")
api.add_decorator(idempotency.keep_answer, mode="view")
api.add_router("/", organizations.router)
api.add_router("/", orglife.router)
