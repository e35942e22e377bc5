from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "dangjian.api"
    label = "api"
    verbose_name = "数据接口"

    def ready(self):
        from dangjian.audit.actions import register_labels

        register_labels({
            "api_token.create": "签发接口令牌",
            "api_token.revoke": "吊销接口令牌",
        })
