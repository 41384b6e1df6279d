import torch
from torch.utils.data import DataLoader, TensorDataset


def make_dataset(n, seed):
    """n noisy 8x8 images of three patterns: a horizontal bar, a vertical bar, a diagonal."""
    torch.manual_seed(seed)
    templates = torch.zeros(3, 8, 8)
    templates[0, 3:5, :] = 1
    templates[1, :, 3:5] = 1
    for i in range(8):
        templates[2, i, i] = 1
    labels = torch.LongTensor(n).random_(0, 3)
    images = templates.index_select(0, labels) + 0.5 * torch.randn(n, 8, 8)
    return TensorDataset(images.unsqueeze(1), labels)


def get_loaders(batch_size=32):
    train_set = make_dataset(512, seed=0)
    val_set = make_dataset(128, seed=1)
    train_loader = DataLoader(train_set, batch_size=batch_size, shuffle=True)
    val_loader = DataLoader(val_set, batch_size=batch_size)
    return train_loader, val_loader
