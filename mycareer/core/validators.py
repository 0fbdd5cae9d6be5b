import re

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.template.defaultfilters import filesizeformat

MAX_IMAGE_BYTES = 2 * 1024 * 1024
MAX_IMAGE_PIXELS = 4000
IMAGE_EXTENSIONS = ["png", "jpg", "jpeg", "gif", "webp"]


def too_many_pixels(what: str) -> str:
    """Said of an image Pillow will not open for its pixel count (a "decompression bomb":
    a small file that would fill the memory once drawn)."""
    return (
        f"The {what} is too large in pixels: it must be at most {MAX_IMAGE_PIXELS} pixels "
        "on each side."
    )


def check_image(file, *, what: str) -> None:
    """A real image (checked by content), at most 2 MB and 4000 pixels a side.

    `what` names it in the messages: "The logo is 3 MB; …", "The photo must be …".
    """
    if file.size > MAX_IMAGE_BYTES:
        raise ValidationError(
            f"The {what} is {filesizeformat(file.size)}; it must be at most "
            f"{filesizeformat(MAX_IMAGE_BYTES)}."
        )
    from PIL import Image, UnidentifiedImageError

    position = file.tell() if hasattr(file, "tell") else 0
    try:
        file.seek(0)
        with Image.open(file) as image:
            # Over Pillow's own limit it only warns (twice over, it refuses, below).
            if Image.MAX_IMAGE_PIXELS and image.width * image.height > Image.MAX_IMAGE_PIXELS:
                raise ValidationError(too_many_pixels(what))
            image.verify()
            width, height = image.size
            if image.format not in {"PNG", "JPEG", "GIF", "WEBP"}:
                raise ValidationError(f"The {what} must be a PNG, JPEG, GIF or WebP image.")
    # The warning is an exception where warnings are made errors (as tests may).
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ValidationError(too_many_pixels(what)) from error
    except (UnidentifiedImageError, OSError, SyntaxError) as error:
        raise ValidationError("This file is not an image MyCareer can read.") from error
    finally:
        file.seek(position)
    if max(width, height) > MAX_IMAGE_PIXELS:
        raise ValidationError(f"The {what} must be at most {MAX_IMAGE_PIXELS} pixels on each side.")


def validate_photo(file) -> None:
    """A person's photo: the same rules as a logo."""
    check_image(file, what="photo")


def validate_screenshot(file) -> None:
    """A screenshot sent with feedback: the same rules as a logo, named as what it is."""
    check_image(file, what="screenshot")


_EXTENSION = re.compile(r"\s*(?:ext\.?|extension|x)\s*\d{1,6}\s*$", re.IGNORECASE)
_PHONE = re.compile(r"\+?[\d\s().\-/]+")


def validate_phone(value: str) -> None:
    """A telephone number as people write it: 7 to 15 digits (the international limit),
    with spaces, brackets, dashes, a leading + and an extension ("ext 204") allowed."""
    if not value:
        return
    number = _EXTENSION.sub("", value).strip()
    digits = sum(character.isdigit() for character in number)
    if not _PHONE.fullmatch(number) or not 7 <= digits <= 15:
        raise ValidationError(
            "Enter a phone number of 7 to 15 digits, such as 0113 496 0000 or "
            "+44 113 496 0000 (an extension may follow: “ext 204”).",
            code="phone",
        )


# A link people follow from MyCareer's pages, emails and calendar files: a web address
# only, never `javascript:` or another scheme a browser or calendar would act on.
validate_web_link = URLValidator(
    schemes=["http", "https"],
    message="Enter a web address that starts with https:// (or http://).",
    code="web_link",
)
