from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "mycareer.audit"
    label = "audit"
    verbose_name = "Audit trail"

    def ready(self) -> None:
        from mycareer.core.registry import NavItem, register_nav

        register_nav(
            NavItem(
                "Audit", "audit:list", lambda user: user.has_perm("mycareer.administer"), order=95
            )
        )
