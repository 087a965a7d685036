"""Everything Heroku: Metabase's app, the Platform/Data API client, promotion, credentials.

- `app`: `MetabaseApp` (`mfb:heroku:MetabaseApp`), the pipeline, app, add-on, config, image build
  or promotion and dyno formation of one stack, plus the image-source helpers.
- `api`: `HerokuClient`, the small JSON client both dynamic providers below use.
- `promotion`: `PipelinePromotion` (`pulumi-python:dynamic/heroku:PipelinePromotion`).
- `credentials`: `HerokuPostgresCredential` (`pulumi-python:dynamic/heroku:PostgresCredential`).

This file imports nothing on purpose: Pulumi's dynamic-provider host imports
`components.heroku.promotion` / `.credentials` to unpickle their providers, and should not pay
for (or depend on) the Heroku and random provider SDKs the app component needs.
The pre-package module paths (`components.heroku_promotion`, `components.heroku_credentials`)
remain as shims because existing Pulumi state pickles the providers by those paths.
"""
