"""Video analysis: probe, shot cuts, keyframes and metrics, with PyAV on small planes.

Domain code: no Lambda, no FastAPI. The worker handler and the `courier video analyze`
command both call `courier.video.pipeline.analyze`.
"""
