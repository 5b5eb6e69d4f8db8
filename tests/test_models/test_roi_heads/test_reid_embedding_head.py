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
    # the res4 projection too, for its own input width
    both = ReIDEmbeddingHead(in_channels=512, embed_dim=64, res4_channels=128)
    both.init_weights()
    for projection in (both.projection, both.projection_res4):
        assert abs(float(projection.weight.norm(dim=1).mean()) - 1.0) < 0.15


def test_res4_and_res5_max_pooled_as_cgps():
    """res5 and res4 are max-pooled, projected apart and concatenated; the
    population statistics and domains act on the concatenation."""
    torch.manual_seed(0)
    model = ReIDEmbeddingHead(in_channels=8, embed_dim=6, pooling='max',
                              res4_channels=4, num_domains=3).eval()
    assert model.projection.out_features == 3
    assert model.projection_res4.out_features == 3
    res5, res4 = torch.randn(5, 8, 2, 2), torch.randn(5, 4, 3, 3)
    out = model(res5, res4_feats=res4)
    assert out.shape == (5, 6)
    assert torch.allclose(out.norm(dim=1), torch.ones(5), atol=1e-6)
    expected = torch.cat([model.projection(res5.amax(dim=(2, 3))),
                          model.projection_res4(res4.amax(dim=(2, 3)))], dim=1)
    expected = torch.nn.functional.normalize(
        (expected - model.norm.running_mean) /
        torch.sqrt(model.norm.running_var + model.norm.eps) * model.norm.weight,
        dim=1)
    assert torch.allclose(out, expected, atol=1e-5)
    # both maps matter; only the maximum of each map does
    assert not torch.allclose(out, model(res5, res4_feats=res4 * 2), atol=1e-3)
    below_max = res5.clone()
    below_max[:, :, 0, 0] = res5.amin(dim=(2, 3))
    below_max[:, :, 1, 1] = res5.amax(dim=(2, 3))
    assert torch.allclose(model(below_max, res4_feats=res4),
                          model(res5.amax(dim=(2, 3), keepdim=True).expand_as(res5),
                                res4_feats=res4), atol=1e-6)
    # training: one person's embedding does not depend on its batch partners
    model.train()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    first = model(torch.cat([res5[:1], res5[1:2]]), domain=2,
                  res4_feats=torch.cat([res4[:1], res4[1:2]]))[0]
    assert not torch.equal(model.domain_mean[1], state['domain_mean'][1])
    assert torch.equal(model.norm.running_mean, state['norm.running_mean'])
    model.load_state_dict(state)
    second = model(torch.cat([res5[:1], res5[3:4]]), domain=2,
                   res4_feats=torch.cat([res4[:1], res4[3:4]]))[0]
    assert torch.allclose(first, second, atol=1e-6)
    with pytest.raises(ValueError, match='res4_feats'):
        model(res5)
    with pytest.raises(ValueError, match='pooling'):
        ReIDEmbeddingHead(in_channels=8, pooling='gem')
