"""Object detection: boxes, per-image matching, mAP (`ap`), exact streaming tallies (`tally`), the engine's
detection sink (`engine`) and mAP under bit errors (`evaluate`). The detector itself is in
`cosim.tasks.detection.model`.
"""
