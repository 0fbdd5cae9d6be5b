"""The body is Markdown: what the help text promises arrives, in both parts."""

import pytest
from django.core.exceptions import ValidationError

from mycareer.mailing.content import (
    EXAMPLE,
    check_markdown,
    check_subject,
    markdown_to_html,
    markdown_to_text,
    merge,
)


def test_a_less_than_sign_keeps_the_line_breaks():
    body = "Salaries < £30,000 are rare.\nMost start higher.\n\nSecond paragraph."
    html = markdown_to_html(body)
    assert "Salaries &lt; £30,000 are rare.<br>" in html
    assert html.count("<p>") == 2
    assert markdown_to_text(body) == (
        "Salaries < £30,000 are rare.\nMost start higher.\n\nSecond paragraph."
    )


def test_bold_italics_lists_and_links_arrive_formatted():
    html = markdown_to_html(EXAMPLE)
    assert "<strong>spring careers fair</strong>" in html
    assert "<em>12 March</em>" in html
    assert "<li>stands for 60 employers</li>" in html
    assert '<a href="https://careers.example.ac.uk/fair" rel="noopener noreferrer">' in html
    assert "**" not in html


def test_the_plain_text_part_keeps_paragraphs_and_lists():
    text = markdown_to_text(EXAMPLE)
    assert text == (
        "Dear {{ first_name }},\n\n"
        "Our spring careers fair is on 12 March:\n\n"
        "- stands for 60 employers\n"
        "- book a stand (https://careers.example.ac.uk/fair)\n\n"
        "Best wishes,\nThe Careers Centre"
    )


def test_numbered_and_nested_lists_in_plain_text():
    text = markdown_to_text("1. first\n2. second\n   - inner\n3. third\n\nAfter.")
    assert text == "1. first\n2. second\n  - inner\n3. third\n\nAfter."


def test_raw_html_is_never_markup():
    html = markdown_to_html('Click <a href="javascript:alert(1)">here</a>')
    assert "<a " not in html and "&lt;a href" in html
    html = markdown_to_html("[bad](javascript:alert(1)) and [good](https://a.example)")
    assert 'href="javascript' not in html and 'href="https://a.example"' in html


@pytest.mark.parametrize("body", ["<p>Dear all</p>", "Hello<br>there", "<strong>x</strong>"])
def test_html_tags_are_refused_with_the_markdown_to_use(body):
    with pytest.raises(ValidationError) as refused:
        check_markdown(body)
    assert "Use Markdown instead" in refused.value.message_dict["body"][0]


def test_unknown_merge_fields_are_refused():
    with pytest.raises(ValidationError) as refused:
        check_markdown("Dear {{ firstname }}")
    assert "{{ firstname }}" in refused.value.message_dict["body"][0]
    check_markdown("Dear {{ first_name }} of {{organisation}}, a < b")


@pytest.mark.parametrize(
    ("body", "shown"),
    [
        ("Dear {{ first_name,\n\nCome to our fair.", "“{{ first_name,”"),
        ("Dear {{first name}},", "“{{first name”"),
        ("Dear { first_name }},", "“{ first_name }}”"),
        # A stray brace touching a whole field reached readers as "{Ann}", "Ann}", "{Ann".
        ("Dear {{{ first_name }}},", "“{{{ first_name }}}”"),
        ("Dear {{ first_name }}},", "“{{ first_name }}}”"),
        ("Dear {{{first_name}},", "“{{{first_name}}”"),
    ],
)
def test_a_merge_field_not_typed_whole_is_refused_not_sent_as_typed(body, shown):
    """ "Dear {{ first_name," was accepted and reached every recipient as typed."""
    with pytest.raises(ValidationError) as refused:
        check_markdown(body)
    message = refused.value.message_dict["body"][0]
    assert message.startswith(shown) and "not a whole merge field" in message
    assert "{{ first_name }}" in message


def test_the_subject_merge_fields_are_checked_as_the_body_is():
    """The subject is merged too, but only the body was checked: "{{ last_name }}" and
    "{{ organisation" went out in the subject line as typed."""
    for subject in ("News for {{ last_name }}", "News for {{ organisation"):
        with pytest.raises(ValidationError) as refused:
            check_subject(subject)
        assert "merge field" in refused.value.message_dict["subject"][0]
    check_subject("News for {{ organisation }} and {{first_name}}")
    check_subject("A subject with no merge field: 100% {braces} kept")


def test_merge_values_are_escaped_in_html_only():
    class Contact:
        full_name = "Ann <b>Smith</b>"

        class organisation:  # noqa: N801
            name = "R&D Ltd"

    assert merge("<p>{{ full_name }}</p>", Contact, escape=True) == (
        "<p>Ann &lt;b&gt;Smith&lt;/b&gt;</p>"
    )
    assert merge("{{ organisation }}", Contact, escape=False) == "R&D Ltd"


@pytest.mark.parametrize(
    ("body", "href"),
    [
        ("[book a stand](/fair)", "/fair"),
        ("[the fair](www.example.ac.uk/fair)", "www.example.ac.uk/fair"),
        ("See [our page](fair.html) soon", "fair.html"),
        ("[call us](tel:01234567890)", "tel:01234567890"),
    ],
)
def test_links_a_recipient_could_not_open_are_refused(body, href):
    with pytest.raises(ValidationError) as refused:
        check_markdown(body)
    message = refused.value.message_dict["body"][0]
    assert f"goes to “{href}”" in message and "https://" in message


def test_full_addresses_and_email_links_pass():
    check_markdown(
        "[fair](https://careers.example.ac.uk/fair), <https://a.example>, "
        "[write](mailto:careers@example.ac.uk) and <careers@example.ac.uk>"
    )
