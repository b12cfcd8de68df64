"""slim_resnet: TF-Slim's ResNets (resnet_v1 / resnet_v2) on current TensorFlow."""
import setuptools

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
    install_requires=[
        'tf-slim==1.1.0',
        'tf-keras',
        'numpy',
        'tqdm',
        'pillow',
    ],
    extras_require={
        'cpu': ['tensorflow-cpu==2.21.*', 'tf-keras==2.21.*'],
        'gpu': ['tensorflow[and-cuda]==2.21.*', 'tf-keras==2.21.*'],
        # torch: the PyTorch converter's tests (a CPU build from local files).
        'test': ['pytest', 'scikit-learn', 'torch==2.13.0', 'nose'],
    },
    entry_points={'console_scripts': ['slim-resnet=slim_resnet.cli:main']},
)
