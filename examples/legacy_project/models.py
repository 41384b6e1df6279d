import torch.nn as nn
import torch.nn.functional as F


class ConvNet(nn.Module):
    """Two conv blocks, with an auxiliary classifier on the first block's features."""

    def __init__(self, num_classes=3):
        super(ConvNet, self).__init__()
        self.conv1 = nn.Conv2d(1, 8, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(8, 16, kernel_size=3, padding=1)
        self.aux = nn.Linear(8 * 4 * 4, num_classes)
        self.fc = nn.Linear(16 * 2 * 2, num_classes)
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.xavier_uniform(m.weight)
                m.bias.data.zero_()

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        aux = F.log_softmax(self.aux(x.view(x.size(0), -1)))
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = self.fc(x.view(x.size(0), -1))
        return F.log_softmax(x), aux
