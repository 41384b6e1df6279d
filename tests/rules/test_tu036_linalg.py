"""TU036 removed-linalg: the legacy calls raise today; the migrated ones compute what 0.3 did."""
import warnings

import pytest

from torchupgrade.codemods import migrate

torch = pytest.importorskip("torch")


def spd(n=4, batch=()):
    g = torch.Generator().manual_seed(0)
    S = torch.randn(*batch, n, n, dtype=torch.float64, generator=g)
    return S @ S.mT + n * torch.eye(n, dtype=torch.float64)


def migrate_and_run(src, unsafe=False, **env):
    src = "import torch\n" + src
    with pytest.raises((AttributeError, RuntimeError)):  # the legacy line fails today
        exec(src, {"torch": torch, **env})
    r = migrate(src, select=["TU036"], unsafe=unsafe)
    assert r.failure is None and r.changed, r.notes
    assert migrate(r.new_source, select=["TU036"], unsafe=unsafe).new_source == r.new_source
    ns = {"torch": torch, **env}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        exec(r.new_source, ns)
    return ns, r


def deprecated(fn, *args, **kw):
    """The 1.x successor (still present, deprecated) as the reference for the legacy function."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kw)


def test_potrf_default_is_upper():
    A = spd()
    ns, _ = migrate_and_run("U = torch.potrf(A)\nL = torch.potrf(A, False)\nM = A.potrf(upper=True)\n", A=A)
    assert torch.equal(ns["U"], deprecated(torch.cholesky, A, upper=True))
    assert torch.equal(ns["U"], ns["U"].triu()) and torch.allclose(ns["U"].mT @ ns["U"], A)
    assert torch.equal(ns["L"], deprecated(torch.cholesky, A))
    assert torch.equal(ns["M"], ns["U"])


def test_potrs_potri_keep_upper_default():
    A, b = spd(), torch.randn(4, 2, dtype=torch.float64)
    U = torch.linalg.cholesky(A, upper=True)
    ns, r = migrate_and_run("x = torch.potrs(b, U)\nAi = torch.potri(U)\ny = b.potrs(U)\n", A=A, b=b, U=U)
    assert "upper=True" in r.new_source
    assert torch.allclose(A @ ns["x"], b) and torch.equal(ns["x"], ns["y"])
    assert torch.allclose(ns["Ai"] @ A, torch.eye(4, dtype=torch.float64))


def test_gesv_and_trtrs():
    A, B = spd(), torch.randn(4, 2, dtype=torch.float64)
    U = torch.linalg.cholesky(A, upper=True)
    src = (
        "X = torch.gesv(B, A)[0]\n"
        "T1 = torch.trtrs(B, U)[0]\n"
        "T2 = torch.trtrs(B, U, True, True)[0]\n"
        "T3 = torch.trtrs(B, U.mT, upper=False, unitriangular=True)[0]\n"
    )
    ns, _ = migrate_and_run(src, A=A, B=B, U=U)
    assert torch.allclose(A @ ns["X"], B)
    assert torch.equal(ns["T1"], deprecated(torch.triangular_solve, B, U, upper=True).solution)
    assert torch.equal(ns["T2"], deprecated(torch.triangular_solve, B, U, upper=True, transpose=True).solution)
    assert torch.equal(ns["T3"], deprecated(torch.triangular_solve, B, U.mT, upper=False, unitriangular=True).solution)


def test_btrifact_btrisolve_btriunpack():
    A = spd(batch=(3,))
    b = torch.randn(3, 4, dtype=torch.float64)
    src = "LU, piv = torch.btrifact(A)\nx = torch.btrisolve(b, LU, piv)\nP, L, U = torch.btriunpack(LU, piv)\nLU2, piv2, info = A.btrifact_with_info()\n"
    ns, _ = migrate_and_run(src, A=A, b=b)
    ref_lu, ref_piv = deprecated(torch.lu, A)
    assert torch.equal(ns["LU"], ref_lu) and torch.equal(ns["piv"], ref_piv)
    assert torch.allclose((A @ ns["x"].unsqueeze(-1)).squeeze(-1), b)
    assert torch.allclose(ns["P"] @ ns["L"] @ ns["U"], A)
    assert torch.equal(ns["LU2"], ref_lu) and int(ns["info"].abs().sum()) == 0


def test_symeig_upper_default():
    g = torch.Generator().manual_seed(1)
    NS = torch.randn(4, 4, dtype=torch.float64, generator=g)  # not symmetric: the triangle matters
    ns, _ = migrate_and_run("e, V = torch.symeig(NS, eigenvectors=True)\nw = torch.symeig(NS)[0]\nwl = torch.symeig(NS, upper=False)[0]\n", NS=NS)
    sym_u = NS.triu() + NS.triu(1).mT
    sym_l = NS.tril() + NS.tril(-1).mT
    assert torch.allclose(ns["e"], torch.linalg.eigvalsh(sym_u)) and torch.allclose(ns["w"], ns["e"])
    assert torch.allclose(ns["wl"], torch.linalg.eigvalsh(sym_l))


def test_gels_is_unsafe():
    A, B = torch.randn(6, 3, dtype=torch.float64), torch.randn(6, 2, dtype=torch.float64)
    src = "X = torch.gels(B, A)[0]\n"
    r = migrate("import torch\n" + src, select=["TU036"])
    assert not r.changed and r.notes and "--unsafe" in r.notes[0].message
    ns, _ = migrate_and_run(src, unsafe=True, A=A, B=B)
    assert torch.allclose(ns["X"], torch.linalg.pinv(A) @ B)


def test_untranslatable_uses_are_noted():
    r = migrate("import torch\nX, LU = torch.gesv(B, A)\nw, v = torch.eig(A)\nR = torch.pstrf(A)\n", select=["TU036"])
    assert not r.changed and [n.line for n in r.notes] == [2, 3, 4]
