"""mfb-analytics: one program, two stacks. Wiring only — each piece lives in components/."""

import pulumi

from components import config as stack_config

cfg, secrets = stack_config.load()  # fails here, before any resource, on a bad config

pulumi.export("environment", cfg.environment)
pulumi.export("tenantRoles", {t.slug: t.role_name for t in cfg.tenants})
pulumi.export("metabaseVersion", cfg.metabase.version)
