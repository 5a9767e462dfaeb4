from functools import lru_cache

import factory
from django.contrib.auth.hashers import make_password

from partnership.models import Directorate, Invitation, Membership, Trust, User

PASSWORD = "correct-horse-battery"


@lru_cache
def password_hash():
    """PASSWORD hashed once (with the tests' fast hasher): hashing per user is slow on purpose."""
    return make_password(PASSWORD)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.nhs.uk")
    full_name = factory.Faker("name", locale="en_GB")
    password = factory.LazyFunction(password_hash)


class TrustFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Trust

    name = factory.Sequence(lambda n: f"Trust {n} NHS Foundation Trust")
    code = factory.Sequence(lambda n: f"T{n:03d}")


class DirectorateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Directorate

    trust = factory.SubFactory(TrustFactory)
    name = factory.Sequence(lambda n: f"Directorate {n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    """A consultant by default; use the role traits for the others."""

    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    trust = factory.SubFactory(TrustFactory)
    professional_group = "clinical"
    level = "operational"
    role = "consultant"

    class Params:
        administrator = factory.Trait(role="administrator", professional_group="managerial", level="operational")
        medical_director = factory.Trait(role="medical_director", professional_group="clinical", level="board")
        chief_executive = factory.Trait(role="chief_executive", professional_group="managerial", level="board")
        directorate_manager = factory.Trait(
            role="directorate_manager", professional_group="managerial", level="operational"
        )


class InvitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Invitation

    membership = factory.SubFactory(MembershipFactory, user__password="!unusable")
    trust = factory.SelfAttribute("membership.trust")


class ObjectiveFactory(factory.django.DjangoModelFactory):
    """A trust-wide draft objective; pass leads/status as needed."""

    class Meta:
        model = "objectives.Objective"

    trust = factory.SubFactory(TrustFactory)
    ref = factory.Sequence(lambda n: f"OBJ-{n + 1:02d}")
    title = factory.Sequence(lambda n: f"Shared objective {n}")
    theme = "dialogue"
    status = "draft"
