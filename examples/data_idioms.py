"""Legacy (PyTorch 0.3) `.data` idioms, as the TU020-TU023 rules see them.

Run `torchupgrade diff --unsafe examples/data_idioms.py` to see the migration. Under torch 2.13
the unmigrated file crashes in `train()` at `loss.data[0]`; the migrated one runs
(tests/rules/test_tu020_tu023_data.py executes both versions of each part and compares the results).
"""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.autograd import Variable


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.fc1 = nn.Linear(4, 8)
        self.fc2 = nn.Linear(8, 3)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))


class Table(object):
    """Not a tensor: its own `data` attribute must keep `.data`."""

    def __init__(self, rows):
        self.data = rows

    def first(self):
        return self.data[0]


def weights_init(m):
    classname = m.__class__.__name__
    if classname.find('Linear') != -1:
        m.weight.data.normal_(0.0, 0.02)
        m.bias.data.fill_(0)


def train(model, xs, ys, lr=0.1, steps=5):
    criterion = nn.CrossEntropyLoss()
    running_loss = 0.0
    for _ in range(steps):
        x, y = Variable(xs), Variable(ys)
        model.zero_grad()
        out = model(x)
        loss = criterion(out, y)
        loss.backward()
        for p in model.parameters():
            p.data.add_(-lr * p.grad.data)
        running_loss += loss.data[0]
    _, pred = torch.max(out.data, 1)
    correct = pred.eq(y.data).sum()
    return running_loss, correct, out.data.cpu().numpy()


def main():
    torch.manual_seed(0)
    model = Net()
    model.apply(weights_init)
    xs = torch.randn(16, 4)
    ys = torch.randint(0, 3, (16,))
    table = Table(np.arange(3))
    return train(model, xs, ys), table.first(), model
