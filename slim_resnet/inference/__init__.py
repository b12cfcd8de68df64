"""Inference: classify, extract end_points features, export.

    from slim_resnet.inference import Classifier, FeatureExtractor
    with Classifier('resnet_v1_50') as clf:
      print(clf.classify(['cat.jpg'], top_k=5))

classifier (Classifier / FeatureExtractor, sessions over a checkpoint),
extraction (features to .npy/.npz shards), export (frozen GraphDef and
SavedModel), inference_graph (freezing, session config, InferenceSession),
batch_norm_folding, precision (float32 / bfloat16 / float16 and the CPU
check). Public names load on first use: importing the package loads no
TensorFlow.
"""
import slim_resnet

__getattr__, __dir__ = slim_resnet.lazy_names(__name__, {
    'Classifier': 'slim_resnet.inference.classifier',
    'FeatureExtractor': 'slim_resnet.inference.classifier',
    'EndPointError': 'slim_resnet.inference.classifier',
    'extract_to_files': 'slim_resnet.inference.extraction',
    'load_features': 'slim_resnet.inference.extraction',
    'export_model': 'slim_resnet.inference.export',
    'InferenceSession': 'slim_resnet.inference.inference_graph',
})
