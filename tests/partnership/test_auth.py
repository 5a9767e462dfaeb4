"""Sign-in, sign-out, password reset, and the trust picker."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from tests.factories import PASSWORD, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def sign_in(client, email, password=PASSWORD):
    return client.post(reverse("login"), {"username": email, "password": password})


def test_sign_in_with_email_in_any_case_lands_on_the_trust_home(client, consultant_membership):
    response = sign_in(client, "CONSULTANT@Ashby.nhs.uk")
    assert response.status_code == 302
    home = client.get(response.url, follow=True)
    assert home.redirect_chain[-1][0] == reverse("trust_home", args=["RAA"])


def test_a_wrong_password_shows_a_clear_error(client, consultant_membership):
    response = sign_in(client, "consultant@ashby.nhs.uk", "wrong-password")
    assert response.status_code == 200
    assert "do not match an account" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_sign_out_is_a_post_and_ends_the_session(client, consultant_membership, login):
    login(consultant_membership)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("trust_home", args=["RAA"])).status_code == 302  # back to sign-in


def test_password_reset_emails_a_working_link_as_text_and_html(client, consultant_membership):
    response = client.post(reverse("password_reset"), {"email": "Consultant@ashby.nhs.uk"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.subject == "Reset your Common Ground password"
    path = re.search(r"http://testserver(/accounts/reset/\S+/)", message.body).group(1)
    assert path in message.alternatives[0][0]

    form = client.get(path, follow=True)
    assert "Choose a new password" in form.content.decode()
    done = client.post(
        form.redirect_chain[-1][0], {"new_password1": "brand-new-pass-9", "new_password2": "brand-new-pass-9"}
    )
    assert done.status_code == 302
    assert sign_in(client, "consultant@ashby.nhs.uk", "brand-new-pass-9").status_code == 302


def test_password_reset_says_nothing_about_unknown_addresses(client, db):
    response = client.post(reverse("password_reset"), {"email": "nobody@nowhere.nhs.uk"}, follow=True)
    assert "Check your email" in response.content.decode()
    assert mail.outbox == []


def test_invited_people_without_a_password_get_no_reset_email(client, trust):
    MembershipFactory(trust=trust, user__email="invited@ashby.nhs.uk", user__password="!unusable")
    client.post(reverse("password_reset"), {"email": "invited@ashby.nhs.uk"})
    assert mail.outbox == []


def test_a_person_in_several_trusts_picks_one(client, trust, other_trust):
    user = UserFactory(email="both@nhs.net")
    MembershipFactory(trust=trust, user=user, administrator=True)
    MembershipFactory(trust=other_trust, user=user)
    sign_in(client, "both@nhs.net")

    page = client.get(reverse("home")).content.decode()

    assert trust.name in page and other_trust.name in page
    assert reverse("trust_home", args=[other_trust.code]) in page
    assert "Trust administrator" in page and "Consultant" in page


def test_someone_in_no_trust_is_told_how_to_get_in(client, db):
    UserFactory(email="lonely@nhs.net")
    sign_in(client, "lonely@nhs.net")
    assert "not a member of any trust" in client.get(reverse("home")).content.decode()


def test_the_layout_shows_the_trust_and_the_persons_role(client, trust, login):
    member = MembershipFactory(trust=trust, medical_director=True, user__full_name="Dr Mira Shah")
    page = login(member).get(reverse("trust_home", args=[trust.code])).content.decode()
    assert trust.name in page
    assert "Dr Mira Shah · Medical director" in page


def test_the_people_list_costs_the_same_queries_for_5_or_50_people(
    trust, admin_membership, login, django_assert_max_num_queries
):
    client = login(admin_membership)
    url = reverse("people_list", args=[trust.code])
    MembershipFactory.create_batch(5, trust=trust)
    with django_assert_max_num_queries(9) as few:
        client.get(url)
    MembershipFactory.create_batch(45, trust=trust)
    # session + user + trust + membership + count + page of rows (+ savepoints) + the menu's
    # comments-waiting badge (administrators review comments): not per row
    with django_assert_max_num_queries(9) as many:
        client.get(url)
    assert len(many.captured_queries) == len(few.captured_queries)
