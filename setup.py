"""slim_resnet: TF-Slim's ResNets (resnet_v1 / resnet_v2) on current TensorFlow."""
import setuptools

ONNX = ['tf2onnx>=1.17', 'onnxruntime>=1.20', 'onnx']
OPENVINO = ['openvino>=2025.0', 'nncf>=2.16']
BEAM = ['apache-beam>=2.60']

setuptools.setup(
    name='slim_resnet',
    version='0.1.0',
    description=("TF-Slim's ResNet family as TF1-style graphs that restore the "
                 'official slim ImageNet checkpoints, on TensorFlow >= 2.16.'),
    long_description=open('README.md', encoding='utf-8').read(),
    long_description_content_type='text/markdown',
    python_requires='>=3.9',
    packages=setuptools.find_packages(include=['slim_resnet', 'slim_resnet.*']) +
    ['slim_resnet.assets'],
    # The top-level checkpoints/ data folder (manifest, labels, the small
    # shipped checkpoint) installs as slim_resnet/assets.
    package_dir={'slim_resnet.assets': 'checkpoints'},
    package_data={'slim_resnet.assets': ['*.json', '*.txt', '*/*', '*/*/*']},
    # One TensorFlow: the `tensorflow` wheel runs on CPU and (with CUDA
    # libraries) on GPU, and tf-keras requires it by that name, so a
    # `tensorflow-cpu` next to it would install a second TensorFlow into the
    # same folder.
    install_requires=[
        'tensorflow==2.21.*',
        'tf-keras==2.21.*',
        'tf-slim==1.1.0',
        'numpy',
        'tqdm',
        'pillow',
    ],
    extras_require={
        'cpu': [],  # An alias of the base install (kept for old commands).
        'gpu': ['tensorflow[and-cuda]==2.21.*'],
        # The PyTorch converter: .pth state_dicts need torch (install the CPU
        # wheel from PyTorch's CPU index, see README); .safetensors files need
        # only safetensors.
        'torch': ['torch', 'safetensors'],
        'safetensors': ['safetensors'],
        # export --format onnx (tf2onnx) and its runtime (onnxruntime; its
        # int8 is onnxruntime.quantization).
        'onnx': ONNX,
        # export --format openvino and its runtime; int8 by NNCF.
        'openvino': OPENVINO,
        # extract --beam: the Apache Beam pipeline.
        'beam': BEAM,
        # pytest-xdist: pytest.ini runs the suite on every core (up to 4).
        # The runtimes' extras too, so that no export or Beam test is skipped.
        'test': ['pytest', 'pytest-xdist', 'scikit-learn', 'safetensors',
                 'nose'] + ONNX + OPENVINO + BEAM,
    },
    entry_points={'console_scripts': ['slim-resnet=slim_resnet.cli:main']},
)
