import torch.nn as nn
import torch.nn.functional as F


class AuxLoss(nn.Module):
    """NLL of the main head plus a down-weighted NLL of the auxiliary head (as in Inception)."""

    def __init__(self, aux_weight=0.4, weight=None):
        super(AuxLoss, self).__init__()
        self.aux_weight = aux_weight
        self.weight = weight

    def forward(self, outputs, target):
        main, aux = outputs
        loss = F.nll_loss(main, target, weight=self.weight)
        return loss + self.aux_weight * F.nll_loss(aux, target, weight=self.weight)
