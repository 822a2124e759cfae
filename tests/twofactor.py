"""TOTP helpers for tests: real devices and real codes (django_otp.oath.totp)."""

from binascii import unhexlify

from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice


def has_device(user) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def confirmed_device(user) -> TOTPDevice:
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="test", confirmed=True)


def token_for_key(hex_key: str, *, steps_away: int = 0) -> str:
    """The code an authenticator app holding the key shows now (or steps_away periods off)."""
    return f"{totp(unhexlify(hex_key), drift=steps_away):06d}"


def current_token(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def verify_second_factor(client, user) -> TOTPDevice:
    """Mark the client's session as having passed TOTP, as otp_verify does."""
    device = confirmed_device(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return device
