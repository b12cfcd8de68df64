"""Training and evaluation: research/slim's train_image_classifier and
eval_image_classifier as library calls.

    from slim_resnet.train import TrainConfig, train, evaluate
    result = train(TrainConfig(train_dir='runs/flowers', dataset='flowers/',
                               checkpoint='resnet_v1_50', max_steps=1000))
    print(evaluate('runs/flowers', 'flowers/').top1)

config (TrainConfig and its checks, no TensorFlow), warm_start (what a run
starts from: the fine-tuning checkpoint, or train_dir to resume), inputs (the
training input pipeline), graph (loss, clones, train op), optimizers
(learning-rate schedules and optimizers), deployment (devices of clones and
variables), cluster (the ps/worker runtime), progress, loop (the session and
train()), evaluation (evaluate, watch). Public names load on first use.
"""
import slim_resnet

__getattr__, __dir__ = slim_resnet.lazy_names(__name__, {
    'TrainConfig': 'slim_resnet.train.config',
    'train': 'slim_resnet.train.loop',
    'TrainResult': 'slim_resnet.train.loop',
    'TrainingError': 'slim_resnet.train.graph',
    'evaluate': 'slim_resnet.train.evaluation',
    'watch': 'slim_resnet.train.evaluation',
    'EvalResult': 'slim_resnet.train.evaluation',
})
