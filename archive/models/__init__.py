"""Typed models, one module per aggregate. Importing this package registers them all."""
from archive.models.accounts import Account, ApiToken, ROLES
from archive.models.circles import Circle, Invite, Membership, CIRCLE_ROLES
from archive.models.site import SiteFlag

__all__ = [
    "Account", "ApiToken", "ROLES",
    "Circle", "Invite", "Membership", "CIRCLE_ROLES",
    "SiteFlag",
]
