"""One fixed feature network for the checks of the toolkit's metrics against other packages."""
import torch
from torch import nn


class FeatureNet(nn.Module):
    """A seeded small convolutional network: 1 x 8 x 8 images -> 16 features (``num_features``, as
    torchmetrics asks of a custom feature extractor)."""

    num_features = 16

    def __init__(self, seed: int = 0):
        super().__init__()
        torch.manual_seed(seed)
        self.net = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.Tanh(), nn.Conv2d(8, 8, 3, stride=2, padding=1),
                                 nn.Tanh(), nn.Flatten(), nn.Linear(8 * 4 * 4, self.num_features)).double().eval()

    @torch.no_grad()
    def forward(self, x):
        return self.net(x.double())


def digits_features(net, n: int = 600):
    """(real features, fake features): the 8x8 digits' training images, and test images blurred and shifted
    (a stand-in generator whose samples differ from the data)."""
    from ganphase.simulate.data import load_dataset

    real = load_dataset("digits").x[:n].reshape(-1, 1, 8, 8).double()
    fake = load_dataset("digits", split="test").x[:n].reshape(-1, 1, 8, 8).double()
    fake = 0.6 * fake + 0.4 * torch.roll(fake, 1, dims=3) + 0.1
    return real, fake, net(real).numpy(), net(fake).numpy()
