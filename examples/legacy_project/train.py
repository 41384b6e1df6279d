"""Train the ConvNet on synthetic patterns: a PyTorch 0.3 project (Python <= 3.6, `async=`).

    python train.py

tests/test_example_project.py migrates a copy with `torchupgrade apply` and runs it under
`python -W error` on torch 2.13.
"""
import torch
import torch.optim as optim
from torch.autograd import Variable

from data import get_loaders
from losses import AuxLoss
from models import ConvNet
from utils import AverageMeter, to_var


def train(model, loader, criterion, optimizer, epoch):
    model.train()
    total_loss = 0
    for images, target in loader:
        if torch.cuda.is_available():
            images, target = images.cuda(async=True), target.cuda(async=True)
        images, target = Variable(images), Variable(target)
        optimizer.zero_grad()
        output = model(images)
        loss = criterion(output, target)
        loss.backward()
        optimizer.step()
        total_loss += loss.data[0]
    print('epoch %d  train loss %.4f' % (epoch, total_loss / len(loader)))
    return total_loss / len(loader)


def validate(model, loader, criterion):
    model.eval()
    losses = AverageMeter()
    correct = 0
    for images, target in loader:
        images, target = to_var(images, volatile=True), to_var(target, volatile=True)
        output = model(images)
        loss = criterion(output, target)
        losses.update(loss.data[0], images.size(0))
        pred = output[0].data.max(1)[1]
        correct += pred.eq(target.data).cpu().sum()
    accuracy = 100. * correct / len(loader.dataset)
    print('         val loss %.4f  accuracy %.1f%%' % (losses.avg, accuracy))
    return losses.avg, accuracy


def main(epochs=3):
    torch.manual_seed(1)
    train_loader, val_loader = get_loaders()
    model = ConvNet()
    if torch.cuda.is_available():
        model.cuda()
    criterion = AuxLoss(aux_weight=0.4)
    optimizer = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    for epoch in range(1, epochs + 1):
        train(model, train_loader, criterion, optimizer, epoch)
        validate(model, val_loader, criterion)


if __name__ == '__main__':
    main()
