"""Signing in and out, joining from an invite, choosing a new password with a link a
facilitator made, and one's own account settings."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_limiter import RateLimitExceeded
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from archive.db import db
from archive.extensions import chosen_language, limiter
from archive.models import Account, ApiToken
from archive.numbers import db_int
from archive.operations import Refused
from archive.operations import accounts as ops
from archive.text import key
from archive.web import form_refused, invalid, once, safe_next
from archive.web.forms import (
    AcceptInviteForm,
    JoinForm,
    NewPasswordForm,
    PasswordForm,
    PlainForm,
    ProfileForm,
    SignInForm,
    TokenForm,
)
from archive.web.pages import remember_language

bp = Blueprint("auth", __name__)


def load_account(user_id: str):
    """Flask-Login's loader: the cookie must name the account's current session version."""
    account_id, _sep, version = (user_id or "").partition(":")
    number = db_int(account_id)
    if number is None or not (version.isascii() and version.isdigit()):
        return None
    account = db.session.get(Account, number)
    if account is None or not account.active or account.session_version != int(version):
        return None
    return account


def _start_session(account: Account) -> None:
    """A fresh session for a fresh sign-in (no fixation); the chosen language, a cookie of
    its own, stays."""
    session.clear()
    login_user(account)


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


# Sign-in limits count failures, so thirty people on one Wi-Fi (or behind a carrier's shared
# address) all sign in: per typed username from any address (guessing one account), and,
# more generously, per address for any username (guessing many). A request over either limit
# is refused before its password is checked, so the right password does not get through
# either. Per username every try is counted as it comes in (so tries sent at the same moment
# are counted one by one) and a sign-in that works starts the count afresh; per address a try
# is counted once it has failed, as are tries of unknown, used or expired password links.


def _account_failure_limit() -> str:
    return current_app.config["SIGN_IN_ACCOUNT_LIMIT"]


def _address_failure_limit() -> str:
    return current_app.config["SIGN_IN_ADDRESS_LIMIT"]


def _typed_account() -> str:
    """The username as typed, in the form that makes two usernames the same."""
    return "account:" + key(request.form.get("username", "")[:64])


def _sign_in_failed(response) -> bool:
    return response.status_code == 422


def _link_failed(response) -> bool:
    return response.status_code in (404, 422)


_sign_in_failures_per_address = limiter.shared_limit(
    _address_failure_limit, scope="sign-in-failures", methods=["POST"], deduct_when=_sign_in_failed
)
_link_failures_per_address = limiter.shared_limit(
    _address_failure_limit, scope="sign-in-failures", deduct_when=_link_failed
)


@bp.errorhandler(RateLimitExceeded)
def _too_many_tries(error):
    """Over a limit: on the sign-in page, the page again with what was typed (never the
    password) and what to do; elsewhere the site's own page."""
    db.session.rollback()
    if request.endpoint != "auth.sign_in":
        from archive.errors import render_error

        return render_error(429)
    return render_template("auth/sign_in.html", form=SignInForm(), limited=True), 429


def _forget_account_failures() -> None:
    """The typed username's count starts afresh. Should the count's store (Redis) stop
    answering just now, the sign-in still works: its count then ends with its window."""
    for counted in limiter.current_limits:
        if any(str(part).startswith("account:") for part in counted.request_args):
            try:
                limiter.limiter.clear(counted.limit, *counted.request_args)
            except Exception:  # noqa: BLE001  (any failure of the store, whichever it is)
                current_app.logger.warning("a sign-in's count could not be cleared")


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit(_account_failure_limit, key_func=_typed_account, methods=["POST"])
@_sign_in_failures_per_address
def sign_in():
    form = SignInForm()
    if current_user.is_authenticated and request.method == "GET":
        return redirect(url_for("pages.home"))
    if not form.validate_on_submit():
        return render_template("auth/sign_in.html", form=form), 422 if form.errors else 200
    account = ops.authenticate(form.username.data or "", form.password.data or "")
    if account is None:
        form.password.errors = [_("That username and password do not match. Please try again.")]
        return render_template("auth/sign_in.html", form=form), 422
    _forget_account_failures()
    _start_session(account)
    return redirect(safe_next(request.args.get("next"), url_for("pages.home")))


@bp.post("/sign-out")
def sign_out():
    form = PlainForm()
    if form.validate_on_submit() and current_user.is_authenticated:
        ops.end_sessions(current_user._get_current_object())
        message = _("You have signed out.")  # in the account's language, before it goes
        _end_this_session()
        flash(message, "info")
    return redirect(url_for("pages.home"))


@bp.post("/account/sign-out-everywhere")
@login_required
def sign_out_everywhere():
    if not PlainForm().validate_on_submit():
        return redirect(url_for("auth.account"))
    stopped = ops.sign_out_everywhere(current_user._get_current_object())
    message = (
        ngettext(
            "You are signed out everywhere, and %(num)d API token was stopped.",
            "You are signed out everywhere, and %(num)d API tokens were stopped.",
            stopped,
        )
        if stopped
        else _("You are signed out everywhere.")
    )
    _end_this_session()
    flash(message, "info")
    return redirect(url_for("pages.home"))


def _end_this_session() -> None:
    """Signed out here; the chosen language, a cookie of its own, stays."""
    logout_user()
    session.clear()


@bp.route("/join/<token>", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def join(token: str):
    try:
        invite = ops.open_invite(token)
    except Refused as refused:
        return render_template("auth/invite_gone.html", message=refused.message), refused.status
    if current_user.is_authenticated:
        return _join_signed_in(token, invite)
    form = JoinForm()
    if not form.validate_on_submit():
        return render_template(
            "auth/join.html", form=form, invite=invite
        ), 422 if form.errors else 200
    try:
        account = ops.join_with_invite(
            token,
            form.username.data or "",
            form.password.data or "",
            form.display_name.data or "",
            chosen_language(),
        )
    except Refused as refused:
        return form_refused(form, refused, "auth/join.html", invite=invite)
    _start_session(account)
    flash(_("Welcome to %(circle)s.", circle=invite.circle.name), "info")
    return redirect(url_for("circles.show", slug=invite.circle.slug))


def _join_signed_in(token: str, invite):
    form = AcceptInviteForm()
    if not form.validate_on_submit():
        return render_template("auth/join_signed_in.html", form=form, invite=invite)
    try:
        ops.redeem_invite(token, current_user._get_current_object())
    except Refused as refused:  # used in another tab or by someone else meanwhile
        return render_template("auth/invite_gone.html", message=refused.message), refused.status
    flash(_("Welcome to %(circle)s.", circle=invite.circle.name), "info")
    return redirect(url_for("circles.show", slug=invite.circle.slug))


@bp.route("/reset/<token>", methods=["GET", "POST"])
@_link_failures_per_address
def reset_password(token: str):
    """A member chooses a new password with the link a facilitator or an admin made them."""
    try:
        reset = ops.open_password_reset(token)
    except Refused as refused:
        return _password_link_gone(refused)
    form = NewPasswordForm()
    if not form.validate_on_submit():
        return render_template(
            "auth/reset_password.html", form=form, account=reset.account
        ), 422 if form.errors else 200
    try:
        account = ops.reset_password(token, form.new_password.data or "")
    except Refused as refused:
        if refused.field is None:  # used meanwhile, in another tab or by someone else
            return _password_link_gone(refused)
        form.new_password.errors = [refused.message]
        return render_template(
            "auth/reset_password.html", form=form, account=reset.account
        ), refused.status
    _start_session(account)
    flash(
        _(
            "Your new password is saved and you are signed in. Anywhere else you were "
            "signed in, you are now signed out."
        ),
        "info",
    )
    return redirect(url_for("pages.home"))


def _password_link_gone(refused: Refused):
    return render_template("auth/reset_gone.html", message=refused.message), refused.status


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    profile = ProfileForm(prefix="profile", obj=current_user)
    if request.method == "GET":
        profile.locale.data = current_user.locale or ""
    if profile.submit.data and profile.validate_on_submit():
        ops.update_profile(current_user, profile.display_name.data or "", profile.locale.data)
        flash(_("Saved."), "info")
        response = redirect(url_for("auth.account"))
        if profile.locale.data:
            remember_language(response, profile.locale.data)
        return response
    status = 422 if profile.errors else 200
    return render_template("auth/account.html", **_account_forms(profile=profile)), status


@bp.post("/account/password")
@login_required
@limiter.limit(_login_limit)
def change_password():
    form = PasswordForm(prefix="password")
    if not form.validate_on_submit():
        return invalid("auth/account.html", None, **_account_forms(password=form))
    try:
        stopped = ops.change_password(
            current_user, form.current_password.data or "", form.new_password.data or ""
        )
    except Refused as refused:
        return form_refused(form, refused, "auth/account.html", **_account_forms(password=form))
    _start_session(current_user._get_current_object())
    flash(
        ngettext(
            "Your password is changed. %(num)d API token and your other sessions were ended.",
            "Your password is changed. %(num)d API tokens and your other sessions were ended.",
            stopped,
        )
        if stopped
        else _(
            "Your password is changed. Anywhere else you were signed in, you are now signed out."
        ),
        "info",
    )
    return redirect(url_for("auth.account"))


@bp.post("/account/tokens")
@login_required
@limiter.limit(_login_limit)
def create_token():
    form = TokenForm(prefix="token")
    if not form.validate_on_submit():
        return invalid("auth/account.html", None, **_account_forms(token=form))
    try:
        secret = ops.create_token_confirmed(
            current_user, form.current_password.data or "", form.label.data or ""
        )
    except Refused as refused:
        return form_refused(form, refused, "auth/account.html", **_account_forms(token=form))
    return once.show_once(url_for("auth.token_created"), {"secret": secret})


@bp.get("/account/tokens/new")
@login_required
def token_created():
    """The new token, to this session for 30 minutes (reload and Back keep it)."""
    shown = once.shown(url_for("auth.token_created"))
    if shown is None:
        return redirect(url_for("auth.account"))
    return render_template("auth/token_created.html", secret=shown["secret"])


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    if PlainForm().validate_on_submit():
        try:
            ops.revoke_token(current_user, token_id)
        except Refused as refused:
            flash(refused.message, "error")
            return redirect(url_for("auth.account"))
        flash(_("The token no longer works."), "info")
    return redirect(url_for("auth.account"))


def _account_forms(**given):
    return {
        "profile": given.get("profile")
        or ProfileForm(prefix="profile", formdata=None, obj=current_user),
        "password": given.get("password") or PasswordForm(prefix="password", formdata=None),
        "token": given.get("token") or TokenForm(prefix="token", formdata=None),
        "plain": PlainForm(),
        "tokens": list(
            db.session.scalars(
                select(ApiToken)
                .where(ApiToken.account_id == current_user.id, ApiToken.revoked_at.is_(None))
                .order_by(ApiToken.created_at.desc())
            )
        ),
    }
