"""Real motion capture (BVH, AMASS, HumanML3D joints) imported into the stick-figure format."""

from stickgen.data.mocap.importer import import_mocap

__all__ = ["import_mocap"]
