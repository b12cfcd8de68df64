"""Image preprocessing, as research/slim's preprocessing/ (same numbers).

    fn = get_preprocessing('vgg')            # or 'inception', or a model name
    image = fn(raw_image, 224, 224)          # [224, 224, 3] float32
"""
from slim_resnet.preprocessing.preprocessing_factory import get_preprocessing  # noqa: F401
from slim_resnet.preprocessing.preprocessing_factory import preprocessing_name  # noqa: F401
