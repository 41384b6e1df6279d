"""A small legacy (PyTorch 0.3) evaluation + DQN-style script exercising TU010 (volatile-no-grad).

Try: torchupgrade diff examples/volatile_eval.py
"""
import torch.nn as nn
import torch.nn.functional as F
from torch.autograd import Variable
import torch.optim as optim

import torch

RESULTS = {}


def to_var(x, volatile=False):
    return Variable(x, volatile=volatile)


def evaluate(net, batches):
    net.eval()
    correct = 0
    total = 0
    for data, target in batches:
        data = to_var(data, volatile=True)
        output = net(data)
        pred = output.data.max(1)[1]
        correct += (pred == target).sum().item()
        total += target.size(0)
    RESULTS["eval_requires_grad"] = output.requires_grad
    return correct / total


def dqn_step(online, target_net, optimizer, s, a, r, s2, gamma=0.99):
    q = online(Variable(s)).gather(1, a).squeeze(1)
    next_q = target_net(Variable(s2, volatile=True)).max(1)[0]
    next_q.volatile = False
    RESULTS["target_requires_grad"] = next_q.requires_grad
    loss = F.smooth_l1_loss(q, Variable(r) + gamma * next_q)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss


if __name__ == "__main__":
    torch.manual_seed(0)
    net = nn.Linear(4, 2)
    target = nn.Linear(4, 2)
    batches = [(torch.randn(8, 4), torch.randint(0, 2, (8,))) for _ in range(3)]
    acc = evaluate(net, batches)
    opt = optim.SGD(net.parameters(), lr=0.1)
    s, s2 = torch.randn(8, 4), torch.randn(8, 4)
    dqn_step(net, target, opt, s, torch.randint(0, 2, (8, 1)), torch.randn(8), s2)
    RESULTS["grad_enabled_after"] = torch.is_grad_enabled()
    print(acc, RESULTS)
