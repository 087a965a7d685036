"""Policy pack `mfb-analytics`: the checks in mfb_policies.py, all mandatory.

Run by the Pulumi CLI (`pulumi preview --policy-pack policy`) in policy/venv; the workflows
pass it to every preview and up (pulumi/actions `policyPacks`).
"""

from __future__ import annotations

import sys
from pathlib import Path

from pulumi_policy import (
    EnforcementLevel,
    PolicyPack,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

sys.path.insert(0, str(Path(__file__).resolve().parent))
import mfb_policies

PACK_NAME = "mfb-analytics"


def _validator(check: mfb_policies.Check):
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        resource = mfb_policies.Resource(
            resource_type=args.resource_type,
            props=args.props,
            urn=args.urn,
            name=args.name,
            protect=bool(args.opts.protect),
        )
        for message in check.fn(resource):
            report_violation(message, args.urn)

    return validate


def policies() -> list[ResourceValidationPolicy]:
    return [
        ResourceValidationPolicy(
            name=c.name,
            description=c.description,
            validate=_validator(c),
            enforcement_level=EnforcementLevel.MANDATORY,
        )
        for c in mfb_policies.CHECKS
    ]


# Constructing the pack serves it to the engine (as Pulumi's policy-pack template does).
PolicyPack(name=PACK_NAME, enforcement_level=EnforcementLevel.MANDATORY, policies=policies())
