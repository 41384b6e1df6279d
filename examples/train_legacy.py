"""A 2017-style (PyTorch 0.3) training script that uses every legacy idiom torchupgrade migrates.

As written it needs PyTorch 0.3 and Python <= 3.6 (`async=True` is a SyntaxError since 3.7).
After `torchupgrade apply --unsafe examples/train_legacy.py` it runs on torch 2.13, on CPU, in a
few seconds, even under `python -W error` (tests/test_legacy_example.py checks this).
The data are generated here: three Gaussian blobs in 8 dimensions, whitened with a Cholesky factor.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.autograd import Variable
from torch.nn.utils import clip_grad_norm

torch.manual_seed(0)
N, D, C, BATCH = 600, 8, 3, 50

# -- data -----------------------------------------------------------------------------------
centers = torch.randn(C, D) * 1.5
labels = torch.LongTensor(N).random_(0, C)
inputs = centers[labels] + torch.randn(N, D)
inputs = inputs - inputs.mean(0).expand_as(inputs)
cov = torch.mm(inputs.t(), inputs) / N
U = torch.potrf(cov)                                   # upper factor: cov = U^T U
inputs = torch.trtrs(inputs.t(), U, transpose=True)[0].t()  # whiten: solve U^T z = x^T


# -- model ----------------------------------------------------------------------------------
class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.fc1 = nn.Linear(3 * D, 32)
        self.gate = nn.Linear(3 * D, 32)
        self.fc2 = nn.Linear(32, C)
        nn.init.xavier_uniform(self.fc1.weight)
        nn.init.constant(self.fc1.bias, 0)
        nn.init.kaiming_normal(self.gate.weight)

    def forward(self, x):
        # coarse-to-fine features: the input and its linearly upsampled copy
        fine = F.upsample(x.unsqueeze(1), scale_factor=2, mode='linear').squeeze(1)
        feats = torch.cat([x, fine], 1)
        h = F.tanh(self.fc1(feats)) * F.sigmoid(self.gate(feats))
        return F.log_softmax(self.fc2(h))


def sgd_step(params, buffers, lr, momentum=0.9, weight_decay=1e-4):
    """Momentum SGD written the 0.3 way: scalar-first add_ overloads on .data."""
    for p, buf in zip(params, buffers):
        if p.grad is None:
            continue
        d_p = p.grad.data
        d_p.add_(weight_decay, p.data)
        buf.mul_(momentum).add_(1 - momentum, d_p)
        p.data.add_(-lr, buf)


model = Net()
params = list(model.parameters())
buffers = [torch.zeros(p.size()) for p in params]
criterion = nn.NLLLoss(size_average=False)

epoch_losses = []
for epoch in range(8):
    total = 0.0
    for i in range(0, N, BATCH):
        x = Variable(inputs[i:i + BATCH])
        y = Variable(labels[i:i + BATCH])
        if torch.cuda.is_available():
            x, y = x.cuda(async=True), y.cuda(async=True)
        model.zero_grad()
        output = model(x)
        loss = criterion(output, y) / x.size(0)
        loss.backward(retain_variables=False)
        clip_grad_norm(model.parameters(), 5.0)
        sgd_step(params, buffers, lr=0.1)
        total += loss.data[0] * x.size(0)
    epoch_losses.append(total / N)
    print('epoch %d loss %.4f' % (epoch, epoch_losses[-1]))

# -- evaluation -----------------------------------------------------------------------------
x = Variable(inputs, volatile=True)
prediction = model(x).data.max(1)[1]
accuracy = float(prediction.eq(labels).sum()) / N
print('accuracy %.3f' % accuracy)
print('loss %.4f -> %.4f' % (epoch_losses[0], epoch_losses[-1]))
