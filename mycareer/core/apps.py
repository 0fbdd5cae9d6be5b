from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "mycareer.core"
    label = "core"
    verbose_name = "MyCareer core"

    def ready(self) -> None:
        from mycareer.core.registry import NavItem, register_nav

        register_nav(NavItem("Home", "home", lambda user: True, order=0))
