"""Importing organisations from a spreadsheet: upload and check, then confirm."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django_tasks.exceptions import TaskResultDoesNotExist, TaskResultMismatch

from mycareer.core.forms import bounded_ids
from mycareer.core.permissions import require
from mycareer.core.spreadsheets import csv_download
from mycareer.organisations import imports, jobs
from mycareer.organisations.forms import ImportUploadForm
from mycareer.organisations.models import Organisation, Sector


def _upload_page(request, form: ImportUploadForm):
    return render(
        request,
        "organisations/import_upload.html",
        {
            "form": form,
            "columns": imports.COLUMNS,
            "sectors": Sector.objects.all(),
            "sizes": Organisation.Size.choices,
            "max_rows": imports.MAX_ROWS,
        },
    )


def _check_page(request, plan: imports.ImportPlan, *, token: str = "", ticked=(), error=""):
    return render(
        request,
        "organisations/import_check.html",
        {
            "plan": plan,
            "counts": plan.counts,
            "token": token,
            "ticked": set(ticked),
            "error": error,
            "form": ImportUploadForm(),
        },
    )


def _changed(request, pending: imports.PendingImport, plan: imports.ImportPlan, ticked):
    """Show what the file would do now, with a fresh token if it can still be imported."""
    imports.discard_upload(pending)
    token = ""
    if plan.is_valid:
        token = imports.store_upload(
            data=pending.data, filename=pending.filename, user=request.user, plan=plan
        )
    return _check_page(request, plan, token=token, ticked=ticked, error=imports.CHANGED)


@require_http_methods(["GET", "POST"])
@require("organisations.import_organisations")
def organisation_import(request):
    """Upload a file and see what it would do; nothing is written here."""
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        # Django already reduced the name to its last part; it is only shown and audited.
        filename = upload.name[:200]
        try:
            data = imports.read_upload(upload)
            if imports.checked_in_worker(data):
                return _check_in_worker(request, data=data, filename=filename)
            plan = imports.plan_import(data=data, filename=filename)
        except ValidationError as error:
            form.add_error("file", error)
        else:
            token = ""
            if plan.is_valid and plan.has_work:
                token = imports.store_upload(
                    data=data, filename=filename, user=request.user, plan=plan
                )
            return _check_page(request, plan, token=token)
    return _upload_page(request, form)


def _check_in_worker(request, *, data: bytes, filename: str):
    file = imports.store_for_check(data=data)
    result = jobs.check_import.enqueue(user_id=request.user.pk, file=file, filename=filename)
    return redirect("organisations:import_checking", result_id=result.id)


def _own_result(task, result_id, user):
    """A task result of this person's upload, else 404 (ids are not secrets)."""
    try:
        task_result = task.get_result(str(result_id))
    except (TaskResultDoesNotExist, TaskResultMismatch) as error:
        raise Http404("No such import.") from error
    if task_result.kwargs.get("user_id") != user.pk:
        raise Http404("No such import.")
    return task_result


@require_safe
@require("organisations.import_organisations")
def organisation_import_checking(request, result_id):
    """A large file the worker is checking: the check page once it is done."""
    task_result = _own_result(jobs.check_import, result_id, request.user)
    filename = task_result.kwargs.get("filename", "")
    outcome = task_result.return_value if task_result.status == "SUCCESSFUL" else None
    if outcome and outcome["ok"]:
        return _check_page(request, imports.plan_from_data(outcome["plan"]), token=outcome["token"])
    if outcome:
        for message in outcome["errors"]:
            messages.error(request, f"{filename}: {message}")
        return _upload_page(request, ImportUploadForm())
    return render(
        request,
        "organisations/import_checking.html",
        {"task_result": task_result, "filename": filename},
    )


@require_POST
@require("organisations.import_organisations")
def organisation_import_confirm(request):
    """Check the stored file again and write all of it, or nothing."""
    try:
        pending = imports.load_upload(token=request.POST.get("token", ""), user=request.user)
    except imports.ImportFileError as error:
        messages.error(request, error.messages[0])
        return redirect("organisations:import")
    ticked = set(bounded_ids(request.POST.getlist("create_anyway")))
    if imports.checked_in_worker(pending.data):
        # A large file is checked again and written by the worker, not in this request.
        return _import_in_worker(request, pending, ticked)
    try:
        plan = imports.plan_import(data=pending.data, filename=pending.filename)
    except ValidationError as error:
        imports.discard_upload(pending)
        messages.error(request, " ".join(error.messages))
        return redirect("organisations:import")
    if not plan.is_valid or plan.fingerprint != pending.fingerprint:
        return _changed(request, pending, plan, ticked)
    if plan.write_count(ticked) > imports.INLINE_LIMIT:
        return _import_in_worker(request, pending, ticked)
    try:
        result = imports.import_confirmed(pending=pending, by=request.user, create_anyway=ticked)
    except imports.PlanChanged as changed:
        return _changed(request, pending, changed.plan, ticked)
    except ValidationError as error:
        token = request.POST.get("token", "")
        return _check_page(request, plan, token=token, ticked=ticked, error=error.messages[0])
    imports.discard_upload(pending)
    return render(
        request,
        "organisations/import_done.html",
        {"outcome": result.as_dict(), "filename": plan.filename},
    )


def _import_in_worker(request, pending: imports.PendingImport, ticked: set[int]):
    result = jobs.import_organisations.enqueue(
        user_id=request.user.pk,
        file=pending.file,
        filename=pending.filename,
        fingerprint=pending.fingerprint,
        create_anyway=sorted(ticked),
    )
    return redirect("organisations:import_status", result_id=result.id)


@require_safe
@require("organisations.import_organisations")
def organisation_import_status(request, result_id):
    """How a large import the worker is writing is going; only its uploader sees it."""
    task_result = _own_result(jobs.import_organisations, result_id, request.user)
    outcome = task_result.return_value if task_result.status == "SUCCESSFUL" else None
    return render(
        request,
        "organisations/import_status.html",
        {
            "task_result": task_result,
            "filename": task_result.kwargs.get("filename", ""),
            "outcome": outcome,
        },
    )


@require_safe
@require("organisations.import_organisations")
def organisation_import_template(request):
    """A CSV with the headings and an example, to fill in and upload."""
    return csv_download(imports.template_rows(), filename="organisations-import.csv")
