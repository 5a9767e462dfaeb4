"""Upload → check every row → preview → confirm: the browser side of every CSV import.

Nothing is written until the person confirms what the preview showed. The checked text
waits in the session, tied to the trust and the kind of import; confirming checks it
again (the data may have moved on) and applies it in one transaction.
"""

from collections.abc import Callable
from dataclasses import dataclass

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.contrib import messages
from django.db import IntegrityError, transaction
from django.shortcuts import redirect
from django.views import View
from django.views.generic import FormView

from .csv_import import ImportConflict, ImportFileError, decode_upload
from .scoping import TrustScopedMixin

MAX_UPLOAD_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class CsvImporter:
    """What differs between imports. `plan(trust, text)` checks and returns a plan with
    `.is_valid`, `.errors`, `.summary()` and `.rows`; `apply(trust, plan, options, user)`
    writes it and returns a result with `.summary()`."""

    key: str  # "people" -> URL names people_import / people_import_confirm, session key
    title: str
    columns: list
    notes: str
    plan: Callable
    apply: Callable
    done_url_name: str
    options: tuple = ()  # (name, label, initial) for extra checkboxes, e.g. send invitations

    @property
    def session_key(self):
        return f"csv_import:{self.key}"


class CsvImportForm(forms.Form):
    file = forms.FileField(label="CSV file")

    def __init__(self, *args, importer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = "Columns: " + ",".join(importer.columns)
        for name, label, initial in importer.options:
            self.fields[name] = forms.BooleanField(required=False, initial=initial, label=label)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", "Check file"))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError("The file is larger than 5 MB; split it into smaller files.")
        return upload


class CsvImportView(TrustScopedMixin, FormView):
    importer: CsvImporter = None
    template_name = "partnership/csv_import.html"
    form_class = CsvImportForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "importer": self.importer}

    def get_context_data(self, **kwargs):
        return super().get_context_data(importer=self.importer, **kwargs)

    def form_valid(self, form):
        # Checking a new file discards any earlier one: only what was last previewed can be confirmed.
        self.request.session.pop(self.importer.session_key, None)
        try:
            text = decode_upload(form.cleaned_data["file"].read())
        except ImportFileError as exc:
            form.add_error("file", str(exc))
            return self.form_invalid(form)
        plan = self.importer.plan(self.trust, text)
        if plan.is_valid:
            self.request.session[self.importer.session_key] = {
                "trust": self.trust.code,
                "text": text,
                "options": {name: form.cleaned_data[name] for name, _, _ in self.importer.options},
            }
        return self.render_to_response(self.get_context_data(form=form, plan=plan))


class CsvImportConfirmView(TrustScopedMixin, View):
    importer: CsvImporter = None

    def post(self, request, trust_code):
        upload_url = f"{self.importer.key}_import"
        pending = request.session.get(self.importer.session_key)
        if not pending or pending.get("trust") != self.trust.code:
            messages.error(request, "There is no checked file to import. Upload it again.")
            return redirect(upload_url, trust_code=self.trust.code)
        plan = self.importer.plan(self.trust, pending["text"])
        if not plan.is_valid:  # something changed since the preview
            messages.error(request, "The file no longer passes the checks. Upload it again to see why.")
            return redirect(upload_url, trust_code=self.trust.code)
        try:
            with transaction.atomic():  # a savepoint: a failed write leaves the request usable
                result = self.importer.apply(self.trust, plan, pending["options"], request.user)
        except (ImportConflict, IntegrityError) as exc:
            message = str(exc) if isinstance(exc, ImportConflict) else ImportConflict.default_message
            messages.error(request, message)
            return redirect(upload_url, trust_code=self.trust.code)
        del request.session[self.importer.session_key]
        messages.success(request, f"Import complete: {result.summary()}.")
        return redirect(self.importer.done_url_name, trust_code=self.trust.code)
