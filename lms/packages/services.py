"""Writes of uploaded packages: storing an upload, starting a launch."""

from __future__ import annotations

import base64
import json
import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from lms.accounts.models import User
from lms.core import quota
from lms.core.errors import ValidationFailed
from lms.core.models import utcnow
from lms.core.web import absolute_url
from lms.core.zips import LyingZip, copy_entry
from lms.courses import statements as xs
from lms.courses.cohorts.models import Enrollment
from lms.courses.programs.models import Module
from lms.extensions import db
from lms.packages import manifest, storage
from lms.packages.models import XapiPackage
from lms.xapi.builders import agent_for_user
from lms.xapi.models import LrsCredential
from lms.xapi.record import record
from lms.xapi.services import create_lrs_credentials


def package_dir(package: XapiPackage) -> Path:
    """The folder of one package's files."""
    return Path(current_app.instance_path) / package.folder


def upload_package(*, module: Module, uploaded_by: User | None, data: bytes,
                   too_big: bool = False) -> XapiPackage:
    """Validate a Tin Can zip and unpack it as the module's package.

    An earlier package of the module stays recorded, so its activity id keeps counting, but
    its unpacked files are deleted once the new one is committed.

    :param data: the zip's bytes.
    :param too_big: the upload was refused unread for its size.
    :raise ValidationFailed: the module is not e-learning, or the zip is refused (``package``):
        damaged or forged (an entry that does not match its header), or over the
        organization's disk quota (:class:`lms.core.quota.QuotaExceeded`).
    """
    if module.kind != "elearning":
        message = str(_l("Only e-learning modules hold xAPI packages."))
        raise ValidationFailed(message, fields={"package": message})
    archive, entries, found = manifest.check_zip(
        data, too_big=too_big, max_bytes=max_bytes(),
        max_unpacked=current_app.config["PACKAGE_MAX_UNPACKED_BYTES"])
    size = sum(info.file_size for info, _ in entries)
    replaced = list(db.session.scalars(select(XapiPackage).where(
        XapiPackage.module_id == module.id).order_by(XapiPackage.id.desc())))
    # The module's current package gives its room back: its files go when this one comes.
    if module.program.organization_id is not None:
        quota.check_room(module.program.organization_id, size, field="package",
                         freed=replaced[0].size if replaced else 0)
    package = XapiPackage(organization_id=module.program.organization_id, module=module,
                          folder="", launch_path=found.launch_path,
                          activity_id=found.activity_id, activity_type=found.activity_type,
                          title=found.title, uploaded_by=uploaded_by, uploaded_at=utcnow(),
                          size=size)
    db.session.add(package)
    db.session.flush()
    package.folder = f"packages/{package.id}"
    target = package_dir(package)
    # A folder left by a rolled-back upload that got the same id.
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    root = target.resolve()
    try:
        for info, name in entries:
            path = (target / name).resolve()
            if not path.is_relative_to(root):  # belt and braces after check_zip
                raise ValidationFailed(_l("unsafe entry"), fields={"package": _l("unsafe entry")})
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("wb") as sink:
                copy_entry(archive, info, sink)
    except LyingZip as exc:
        shutil.rmtree(target, ignore_errors=True)
        raise manifest.lying_zip(exc) from exc
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise
    db.session.flush()
    storage.remove_after_commit([package_dir(old) for old in replaced if old.folder])
    return package


def _registration_context(enrollment: Enrollment, module: Module) -> dict[str, Any]:
    return {"registration": enrollment.id, "contextActivities": {
        "parent": [{"objectType": "Activity", "id": xs.iri("module", module.id)}],
        "grouping": [{"objectType": "Activity", "id": xs.iri("program", module.program_id)}]}}


def launch(*, enrollment: Enrollment, package: XapiPackage,
           base_url: str) -> tuple[str, LrsCredential]:
    """Start a launch: new short-lived LRS credentials limited to the learner and this
    enrolment, a ``launched`` statement, and the launch URL with the Tin Can parameters.

    :param base_url: the URL prefix the package's files are served under (ends with ``/``).
    :raise ValidationFailed: the package is not of the enrolment's program.
    """
    module = package.module
    if module.program_id != enrollment.cohort.program_id:
        raise ValidationFailed(_l("this package is not part of the enrolment's program"))
    user = enrollment.membership.user
    agent = agent_for_user(user)
    hours = current_app.config["PACKAGE_LAUNCH_HOURS"]
    credential, secret = create_lrs_credentials(
        organization=enrollment.membership.organization,
        label=f"Launch {package.title}"[:100], expires_at=utcnow() + timedelta(hours=hours),
        scope_agent=json.dumps(agent), scope_registration=enrollment.id)
    record([{"actor": agent, "verb": xs.LAUNCHED,
             "object": {"objectType": "Activity", "id": package.activity_id,
                        "definition": {"name": {"und": package.title},
                                       **({"type": package.activity_type}
                                          if package.activity_type else {})}},
             "context": _registration_context(enrollment, module),
             "timestamp": utcnow().isoformat()}],
           organization_id=enrollment.organization_id)
    token = base64.b64encode(f"{credential.key}:{secret}".encode()).decode()
    query = urlencode({"endpoint": absolute_url("/xapi/"),
                       "auth": f"Basic {token}", "actor": json.dumps(agent),
                       "registration": enrollment.id, "activity_id": package.activity_id},
                      quote_via=quote)
    return f"{base_url}{quote(package.launch_path)}?{query}", credential


def max_bytes() -> int:
    """The largest package accepted, in bytes (``PACKAGE_MAX_BYTES``)."""
    return int(current_app.config["PACKAGE_MAX_BYTES"])


def max_size() -> str:
    """The upload limit, for the form."""
    return manifest.megabytes(max_bytes())
