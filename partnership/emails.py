"""One email builder: every message is a subject/text/html template triplet under
templates/emails/, so every email looks and behaves alike."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template import engines
from django.template.loader import render_to_string


def absolute_url(path):
    """A link for an email: SITE_URL + path."""
    return f"{settings.SITE_URL}{path}"


def email_build(*, template, to, context, headers=None):
    """An EmailMultiAlternatives from templates/emails/<template>.{subject.txt,txt,html}."""
    context = {"site_url": settings.SITE_URL, **context}
    text_engine = engines["text"]  # plain text is not HTML: "A&E" must stay "A&E"
    subject = " ".join(text_engine.get_template(f"emails/{template}.subject.txt").render(context).split())
    text = text_engine.get_template(f"emails/{template}.txt").render(context)
    html = render_to_string(f"emails/{template}.html", context)
    message = EmailMultiAlternatives(subject=subject, body=text, to=[to], headers=headers or {})
    message.attach_alternative(html, "text/html")
    return message


def email_send(*, template, to, context, headers=None):
    email_build(template=template, to=to, context=context, headers=headers).send()
