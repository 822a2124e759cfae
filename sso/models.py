"""An organisation's identity provider (OpenID Connect or SAML 2.0), which organisations sign
in through it, and the security log of every sign-in through a provider."""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from participants.models import Organisation, Role

# What a provider may grant: care roles and the manager role. The organisation administrator,
# the steering group and the operator stay with the product (given by hand, audited here).
PROVIDER_ROLES = frozenset(
    {
        Role.PHYSICIAN,
        Role.NURSE,
        Role.ASSISTANT_NURSE,
        Role.NEEDS_ASSESSOR,
        Role.HOME_HELP_COORDINATOR,
        Role.CONTACT_PERSON,
        Role.MANAGER,
    }
)

# Authentication context of a SITHS card (Swedish eID, assurance level 3) and the amr
# values a smart card sign-in reports; an operator can change them per provider.
DEFAULT_STRONG_ACR = [
    "http://id.elegnamnden.se/loa/1.0/loa3",
    "http://id.elegnamnden.se/loa/1.0/loa4",
]
DEFAULT_STRONG_AMR = ["smartcard", "hwk", "sc"]


def _default_strong_acr():
    return list(DEFAULT_STRONG_ACR)


def _default_strong_amr():
    return list(DEFAULT_STRONG_AMR)


class IdentityProvider(models.Model):
    class Protocol(models.TextChoices):
        OIDC = "oidc", _("OpenID Connect")
        SAML = "saml", _("SAML 2.0")

    name = models.CharField(_("name"), max_length=200)
    protocol = models.CharField(_("protocol"), max_length=8, choices=Protocol.choices)
    is_active = models.BooleanField(_("active"), default=True)

    # OpenID Connect: the issuer is where the discovery document is read from, and the only
    # issuer an ID token may name.
    issuer = models.URLField(_("issuer"), blank=True)
    client_id = models.CharField(_("client id"), max_length=200, blank=True)
    client_secret = models.CharField(_("client secret"), max_length=500, blank=True)
    scopes = models.CharField(_("scopes"), max_length=300, default="openid profile", blank=True)

    # SAML 2.0: the identity provider's metadata, from a URL or pasted in.
    saml_metadata_url = models.URLField(_("metadata URL"), blank=True)
    saml_metadata_xml = models.TextField(_("metadata (XML)"), blank=True)

    # Which claim (or SAML attribute) carries what.
    hsa_id_claim = models.CharField(_("claim with the HSA id"), max_length=200, default="hsa_id")
    role_claim = models.CharField(_("claim with the roles"), max_length=200, default="roles")
    unit_claim = models.CharField(
        _("claim with the organisation unit"), max_length=200, default="unit"
    )
    given_name_claim = models.CharField(max_length=200, default="given_name", blank=True)
    family_name_claim = models.CharField(max_length=200, default="family_name", blank=True)
    email_claim = models.CharField(max_length=200, default="email", blank=True)
    role_map = models.JSONField(
        _("roles"),
        default=dict,
        help_text=_(
            'The provider\'s role values and the role each gives here, e.g. {"ssk": "nurse"}.'
        ),
    )
    strong_acr_values = models.JSONField(default=_default_strong_acr, blank=True)
    strong_amr_values = models.JSONField(default=_default_strong_amr, blank=True)
    creates_accounts = models.BooleanField(
        _("creates accounts"),
        default=True,
        help_text=_(
            "The first sign-in of a person the provider vouches for creates their account."
        ),
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        verbose_name = _("identity provider")
        verbose_name_plural = _("identity providers")

    def __str__(self):
        return self.name

    def clean(self):
        errors = {}
        if not isinstance(self.role_map, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in self.role_map.items()
        ):
            errors["role_map"] = _("Roles must be a mapping of the provider's value to a role.")
        else:
            refused = sorted({v for v in self.role_map.values() if v not in PROVIDER_ROLES})
            if refused:
                errors["role_map"] = _(
                    "A provider may give care roles and the manager role only, not: %(roles)s"
                ) % {"roles": ", ".join(refused)}
        if self.protocol == self.Protocol.OIDC:
            for field in ("issuer", "client_id", "client_secret"):
                if not getattr(self, field):
                    errors[field] = _("OpenID Connect needs this.")
        if self.protocol == self.Protocol.SAML and not (
            self.saml_metadata_url or self.saml_metadata_xml
        ):
            errors["saml_metadata_url"] = _("SAML needs the metadata, from a URL or pasted in.")
        if errors:
            raise ValidationError(errors)

    def provider_role(self, value: str) -> str | None:
        role = (self.role_map or {}).get(value)
        return role if role in PROVIDER_ROLES else None


class ConnectedOrganisation(models.Model):
    """An organisation whose staff sign in through this provider: the unit value the
    provider's unit claim carries for it. Its staff sign in no other way."""

    provider = models.ForeignKey(
        IdentityProvider, on_delete=models.CASCADE, related_name="organisations"
    )
    organisation = models.OneToOneField(
        Organisation, on_delete=models.CASCADE, related_name="identity_provider_link"
    )
    unit_id = models.CharField(_("unit id at the provider"), max_length=200)

    class Meta:
        verbose_name = _("organisation signing in through the provider")
        verbose_name_plural = _("organisations signing in through the provider")
        constraints = [
            models.UniqueConstraint(fields=["provider", "unit_id"], name="sso_unit_per_provider")
        ]

    def __str__(self):
        return f"{self.organisation} ({self.unit_id})"


class SignInEvent(models.Model):
    """The security log of sign-ins through a provider: each one, allowed or refused, with
    why. Written by the sso services only, never changed."""

    class Outcome(models.TextChoices):
        SIGNED_IN = "signed_in", _("signed in")
        REFUSED = "refused", _("refused")
        SIGNED_OUT = "signed_out", _("signed out")
        ENDED = "ended", _("session ended for a new check")

    at = models.DateTimeField(default=timezone.now, db_index=True)
    provider = models.ForeignKey(
        IdentityProvider, on_delete=models.PROTECT, null=True, related_name="+"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, null=True, related_name="+"
    )
    user = models.ForeignKey(
        "participants.User", on_delete=models.PROTECT, null=True, related_name="+"
    )
    hsa_id = models.CharField(max_length=64, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    reason = models.CharField(max_length=40, blank=True)
    detail = models.CharField(max_length=500, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    request_id = models.CharField(max_length=32, blank=True)

    class Meta:
        ordering = ["-at"]
        verbose_name = _("sign-in through a provider")
        verbose_name_plural = _("sign-ins through a provider")

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.outcome} {self.reason} {self.hsa_id}"
