from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "mycareer.api"
    label = "api"
    verbose_name = "JSON API and tokens"

    def ready(self) -> None:
        from mycareer.api import permissions  # noqa: F401 (registers rules)
        from mycareer.api.demo import seed_tokens
        from mycareer.api.privacy import calls_kept_days, old_calls_due, personal_data, remove_calls
        from mycareer.audit.personal_data import register_personal_data
        from mycareer.audit.registry import register_actions
        from mycareer.audit.retention import RetentionRule, register_retention_rule
        from mycareer.core.registry import NavItem, SeedStep, register_nav, register_seed

        register_actions(
            {
                "api.token.created": "API token created",
                "api.token.revoked": "API token revoked",
                "api.call": "API call",
            }
        )
        # Staff and students (who book with their own token); employers hold none.
        register_nav(
            NavItem(
                "API tokens",
                "api_pages:tokens",
                lambda user: user.has_perm("api.use_tokens"),
                order=95,
            )
        )
        register_personal_data("API tokens", personal_data)
        register_retention_rule(
            RetentionRule(
                "Records of API calls",
                f"{calls_kept_days()} days",
                old_calls_due,
                remove_calls,
            )
        )
        register_seed(SeedStep("API tokens", seed_tokens, order=95))
