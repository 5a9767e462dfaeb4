from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm, SetPasswordForm
from django.core.validators import MaxLengthValidator
from django.urls import reverse

from .emails import absolute_url, email_send
from .identity import normalise_email
from .models import Directorate, Level, ProfessionalGroup, Role, role_contradiction


class EmailAuthenticationForm(AuthenticationForm):
    error_messages = {
        "invalid_login": "That email address and password do not match an account. Check them and try again.",
        "inactive": "This account has been switched off. Ask your trust administrator.",
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].label = "Email address"
        # AuthenticationForm sets max_length after the field is built, so no validator enforces it.
        self.fields["username"].validators.append(MaxLengthValidator(254))
        self.fields["username"].widget.attrs.update(autocomplete="email", inputmode="email")
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", "Sign in", css_class="w-100"))


class SitePasswordResetForm(PasswordResetForm):
    """Password reset through the one email builder: the link is SITE_URL + path, never the
    request's Host header (which a visitor chooses), and the address is matched as sign-in
    matches it."""

    def get_users(self, email):
        users = get_user_model()._default_manager.filter(email=normalise_email(email), is_active=True)
        return (user for user in users if user.has_usable_password())

    def send_mail(self, subject_template_name, email_template_name, context, from_email, to_email, **kwargs):
        path = reverse("password_reset_confirm", kwargs={"uidb64": context["uid"], "token": context["token"]})
        email_send(
            template="password_reset",
            to=to_email,
            context={"user": context["user"], "reset_url": absolute_url(path)},
        )


class InvitationAcceptForm(SetPasswordForm):
    """Choose a password (and confirm the name) to accept an invitation."""

    full_name = forms.CharField(max_length=200, label="Your full name")

    field_order = ["full_name", "new_password1", "new_password2"]

    def __init__(self, user, *args, **kwargs):
        super().__init__(user, *args, **kwargs)
        self.fields["full_name"].initial = user.full_name
        self.fields["full_name"].widget.attrs["autocomplete"] = "name"
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", "Set password and sign in", css_class="w-100"))


class PersonInviteForm(forms.Form):
    email = forms.EmailField(max_length=254, label="Email address")
    full_name = forms.CharField(max_length=200)
    professional_group = forms.ChoiceField(choices=ProfessionalGroup.choices)
    level = forms.ChoiceField(choices=Level.choices)
    role = forms.ChoiceField(choices=Role.choices)
    directorate = forms.ModelChoiceField(
        queryset=Directorate.objects.none(), required=False, empty_label="Trust-wide (none)"
    )
    receives_board_report = forms.BooleanField(required=False, label="Receives the monthly board report")

    def __init__(self, *args, trust, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["directorate"].queryset = Directorate.objects.filter(trust=trust)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", "Send invitation"))

    def clean(self):
        data = super().clean()
        problem = role_contradiction(data.get("role"), data.get("professional_group"), data.get("level"))
        if problem and not self.errors:
            raise forms.ValidationError(problem.replace("_", " ").capitalize() + ".")
        return data
