"""A 2017-style MNIST-ish training loop: the Variable idioms torchupgrade migrates (TU001, TU002)."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.autograd import Variable


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.fc1 = nn.Linear(20, 32)
        self.fc2 = nn.Linear(32, 4)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))


def repackage_hidden(h):
    """Wraps hidden states in new Variables, to detach them from their history."""
    if type(h) == Variable:
        return Variable(h.data)
    else:
        return tuple(repackage_hidden(v) for v in h)


def train(model, train_loader, optimizer):
    model.train()
    for batch_idx, (data, target) in enumerate(train_loader):
        data, target = Variable(data), Variable(target)
        optimizer.zero_grad()
        output = model(data)
        loss = F.cross_entropy(output, target)
        loss.backward()
        optimizer.step()


def make_noise(batch_size):
    # noise for the generator; gradients are needed w.r.t. the input here
    z = Variable(torch.randn(batch_size, 20), requires_grad=True)
    mask = Variable(torch.ones(batch_size, 1))
    return z * mask


if __name__ == "__main__":
    torch.manual_seed(0)
    xs, ys = torch.randn(64, 20), torch.randint(0, 4, (64,))
    loader = [(xs[i:i + 16], ys[i:i + 16]) for i in range(0, 64, 16)]
    model = Net()
    train(model, loader, torch.optim.SGD(model.parameters(), lr=0.1))
    print(isinstance(make_noise(2), Variable))
