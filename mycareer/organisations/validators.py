from mycareer.core.validators import check_image


def validate_logo(file) -> None:
    """A logo is a real image (checked by content), at most 2 MB and 4000 pixels a side."""
    check_image(file, what="logo")
