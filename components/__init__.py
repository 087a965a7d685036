"""ComponentResources of the mfb-analytics program, one module per piece of infrastructure."""
