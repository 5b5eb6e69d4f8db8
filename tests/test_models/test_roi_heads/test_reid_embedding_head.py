"""ReIDEmbeddingHead: population statistics in training, calibration, no bias."""
import pytest
import torch

from mmssl.models.roi_heads import ReIDEmbeddingHead


def head(**kwargs):
    torch.manual_seed(0)
    return ReIDEmbeddingHead(in_channels=8, embed_dim=4, **kwargs)


def test_training_embedding_depends_on_its_own_input_only():
    model = head().train()
    x = torch.randn(1, 8, 2, 2)
    partners = [torch.randn(1, 8, 2, 2) for _ in range(2)]
    state = {k: v.clone() for k, v in model.state_dict().items()}
    first = model(torch.cat([x, partners[0]]))[0]
    model.load_state_dict(state)
    second = model(torch.cat([x, partners[1]]))[0]
    assert torch.allclose(first, second, atol=1e-6)
    # ... and the running statistics moved towards the batch's
    assert not torch.equal(model.norm.running_mean, state['norm.running_mean'])


def test_batch_mode_couples_and_population_mode_matches_eval():
    coupled = head(norm_stats='batch').train()
    x = torch.randn(1, 8, 2, 2)
    a = coupled(torch.cat([x, torch.randn(1, 8, 2, 2)]))[0]
    b = coupled(torch.cat([x, torch.randn(1, 8, 2, 2)]))[0]
    assert not torch.allclose(a, b, atol=1e-3)
    model = head()
    batch = torch.randn(5, 8, 2, 2)
    train_out = model.train()(batch)
    model.norm.running_mean.zero_()  # what the first call saw
    model.norm.running_var.fill_(1.0)
    assert torch.allclose(train_out, model.eval()(batch), atol=1e-6)


def test_calibrating_sets_the_population_statistics():
    model = head().eval()
    feats = [torch.randn(6, 8, 3, 3) * 3 + 1 for _ in range(4)]
    with model.calibrating():
        for f in feats:
            model(f)
    projected = torch.cat([model.projection(f.mean(dim=(2, 3))) for f in feats])
    means = torch.stack([model.projection(f.mean(dim=(2, 3))).mean(0)
                         for f in feats]).mean(0)
    assert torch.allclose(model.norm.running_mean, means, atol=1e-5)
    assert torch.allclose(model.norm.running_mean, projected.mean(0), atol=1e-5)
    assert not model._calibrating
    with pytest.raises(RuntimeError, match='population'):
        with head(norm_stats='batch').calibrating():
            pass


def test_no_bias_by_default():
    model = head()
    assert not model.norm.bias.requires_grad and torch.all(model.norm.bias == 0)
    assert head(norm_bias=True).norm.bias.requires_grad
    with pytest.raises(ValueError, match='norm_stats'):
        head(norm_stats='group')


def test_domains_keep_statistics_of_their_own():
    from mmssl.models.layers import frozen_bn_statistics
    model = head(num_domains=3).train()
    scene = model.norm.running_mean.clone()
    crops = torch.randn(6, 8, 2, 2) + 5.0
    out = model(crops, domain=2)
    assert torch.equal(model.norm.running_mean, scene)  # scenes untouched
    assert not torch.equal(model.domain_mean[1], torch.zeros(4))
    assert torch.equal(model.domain_mean[0], torch.zeros(4))  # domain 1 untouched
    # the crops' own statistics centre them: the next batch is nearly centred
    with frozen_bn_statistics(model):
        before = model.domain_mean[1].clone()
        model(crops, domain=2)
        assert not torch.equal(model.domain_mean[1], before)  # still moves
        assert torch.equal(model.norm.running_mean, scene)
    assert out.shape == (6, 4)
    # a domain the head lacks falls back to its last one
    model.eval()
    assert torch.allclose(model(crops, domain=7), model(crops, domain=2))
    with pytest.raises(ValueError, match='num_domains'):
        head(num_domains=2, norm_stats='batch')


def test_calibrating_resets_and_estimates_every_domain():
    model = head(num_domains=2).eval()
    model.domain_mean.fill_(9.0)
    scenes = torch.randn(5, 8, 2, 2)
    crops = torch.randn(5, 8, 2, 2) * 2 + 3
    with model.calibrating():
        model(scenes)
        model(crops, domain=1)
    proj = model.projection
    assert torch.allclose(model.norm.running_mean,
                          proj(scenes.mean(dim=(2, 3))).mean(0), atol=1e-5)
    assert torch.allclose(model.domain_mean[0],
                          proj(crops.mean(dim=(2, 3))).mean(0), atol=1e-5)


def test_projection_rows_start_at_unit_norm():
    model = ReIDEmbeddingHead(in_channels=512, embed_dim=64)
    model.init_weights()
    norms = model.projection.weight.norm(dim=1)
    assert abs(float(norms.mean()) - 1.0) < 0.1
