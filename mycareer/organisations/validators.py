from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat

MAX_LOGO_BYTES = 2 * 1024 * 1024
MAX_LOGO_PIXELS = 4000


def validate_logo(file) -> None:
    """A logo is a real image (checked by content), at most 2 MB and 4000 pixels a side."""
    if file.size > MAX_LOGO_BYTES:
        raise ValidationError(
            f"The logo is {filesizeformat(file.size)}; it must be at most "
            f"{filesizeformat(MAX_LOGO_BYTES)}."
        )
    from PIL import Image, UnidentifiedImageError

    position = file.tell() if hasattr(file, "tell") else 0
    try:
        file.seek(0)
        with Image.open(file) as image:
            image.verify()
            width, height = image.size
            if image.format not in {"PNG", "JPEG", "GIF", "WEBP"}:
                raise ValidationError("The logo must be a PNG, JPEG, GIF or WebP image.")
    except (UnidentifiedImageError, OSError, SyntaxError) as error:
        raise ValidationError("This file is not an image MyCareer can read.") from error
    finally:
        file.seek(position)
    if max(width, height) > MAX_LOGO_PIXELS:
        raise ValidationError(f"The logo must be at most {MAX_LOGO_PIXELS} pixels on each side.")
