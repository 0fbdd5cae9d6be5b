from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "mycareer.audit"
    label = "audit"
    verbose_name = "Audit trail"

    def ready(self) -> None:
        from mycareer.audit import jobs
        from mycareer.audit.registry import register_actions
        from mycareer.core.registry import NavItem, register_jobs, register_nav

        register_actions(
            {
                "audit.personal_data.exported": "Personal data exported (subject access)",
                "audit.personal_data.erased": "Personal data erased",
                "audit.retention.applied": "Retention schedule applied",
            }
        )
        register_jobs(jobs.JOBS)
        register_nav(
            NavItem(
                "Audit", "audit:list", lambda user: user.has_perm("mycareer.administer"), order=95
            )
        )
