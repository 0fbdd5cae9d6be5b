from django import forms

from mycareer.people import feed


class FeedUploadForm(forms.Form):
    file = forms.FileField(
        label="File from the student record system",
        help_text=(
            f"A CSV file (UTF-8) or an Excel workbook (.xlsx): at most "
            f"{feed.MAX_BYTES // 1024 // 1024} MB and {feed.MAX_ROWS:,} rows."
        ),
        widget=forms.FileInput(
            attrs={
                "accept": ".csv,.xlsx,text/csv,"
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
        ),
    )
