"""Compatibility shim: the promotion provider moved to `components.heroku.promotion`.

Keep this module. Pulumi stores each dynamic resource's provider in state as a dill pickle that
names the provider class by its module path; resources created before the move name
`components.heroku_promotion.PipelinePromotionProvider`, and `pulumi refresh`, `up` and
`destroy` on such a stack unpickle that path in the dynamic-provider host before anything else
runs. New resources record the new path (tests/unit/test_heroku_package.py checks both).
"""

from components.heroku.promotion import PipelinePromotion, PipelinePromotionProvider

__all__ = ["PipelinePromotion", "PipelinePromotionProvider"]
