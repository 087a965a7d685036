"""ComponentResources of the mfb-analytics program, one module per piece of infrastructure."""

from components import _pulumi_fixes

_pulumi_fixes.apply()
