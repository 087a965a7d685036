"""Compatibility shim: the credential provider moved to `components.heroku.credentials`.

Keep this module. Pulumi stores each dynamic resource's provider in state as a dill pickle that
names the provider class by its module path; credentials created before the move name
`components.heroku_credentials.HerokuCredentialProvider`, and `pulumi refresh`, `up` and
`destroy` on such a stack unpickle that path in the dynamic-provider host before anything else
runs. New resources record the new path (tests/unit/test_heroku_package.py checks both).
"""

from components.heroku.credentials import HerokuCredentialProvider, HerokuPostgresCredential

__all__ = ["HerokuCredentialProvider", "HerokuPostgresCredential"]
