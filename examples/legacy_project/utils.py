import torch
from torch.autograd import Variable


def to_var(x, volatile=False):
    """Wrap a tensor in a Variable, on the GPU when there is one."""
    if torch.cuda.is_available():
        x = x.cuda()
    return Variable(x, volatile=volatile)


def repackage_hidden(h):
    """Wraps hidden states in new Variables, to detach them from their history."""
    if type(h) == Variable:
        return Variable(h.data)
    else:
        return tuple(repackage_hidden(v) for v in h)


class AverageMeter(object):
    """Computes and stores the average and current value"""

    def __init__(self):
        self.reset()

    def reset(self):
        self.val = 0
        self.avg = 0
        self.sum = 0
        self.count = 0

    def update(self, val, n=1):
        self.val = val
        self.sum += val * n
        self.count += n
        self.avg = self.sum / self.count
