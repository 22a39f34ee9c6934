"""Bundled data sets, CSV/NPZ parsing, and clear errors for bad data (issue 5)."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

import symbprop as sp
from symbprop.cli.app import app
from symbprop.datasets import BUNDLED, load_dataset, path
from symbprop.training.data import accuracy, load_data, predicted_labels

IRIS = "examples:iris_4_16_3"


@pytest.fixture(scope="module")
def iris_net():
    return sp.load(IRIS)


@pytest.fixture(scope="module")
def regression_net():
    return sp.mlp([2, 3, 1], activation="tanh", output_activation="identity", loss="mse")


def write_csv(tmp_path, text, name="data.csv"):
    file = tmp_path / name
    file.write_text(text, encoding="utf-8")
    return file


def iris_csv(rows):
    return "sl,sw,pl,pw,species\n" + "".join(f"{r}\n" for r in rows)


# ---------------------------------------------------------------- bundled data sets


@pytest.mark.parametrize(("name", "shape", "classes"), [
    ("xor", (4, 2), 2), ("iris", (150, 4), 3), ("digits", (1797, 64), 10)])
def test_bundled_datasets_load_offline(name, shape, classes):
    ds = load_dataset(name)
    assert ds.X.shape == shape and ds.X.dtype == np.float64
    assert ds.y_labels.shape == (shape[0],)
    assert sorted(set(ds.y_labels.tolist())) == list(range(classes))
    assert len(ds.class_names) == classes and len(ds.feature_names) == shape[1]
    assert ds.description
    assert path(name).stat().st_size < 1_000_000


def test_digits_pixels_are_scaled_to_unit_interval():
    X = load_dataset("digits").X
    assert X.min() == 0.0 and X.max() == 1.0


def test_unknown_dataset_is_a_data_error():
    with pytest.raises(sp.DataError, match="bundled: xor, iris, digits"):
        load_dataset("mnist")
    assert set(BUNDLED) == {"xor", "iris", "digits"}


def test_load_data_one_hot_and_split(iris_net):
    data = load_data(iris_net, "iris", seed=3)
    assert len(data.train) == 120 and len(data.test) == 30
    assert data.task == "multiclass" and data.class_names == ("setosa", "versicolor", "virginica")
    assert np.all(data.train.Y.sum(axis=1) == 1)
    assert np.array_equal(np.argmax(data.train.Y, axis=1), data.train.labels)
    again = load_data(iris_net, "iris", seed=3)
    assert np.array_equal(data.test.X, again.test.X)  # deterministic
    other = load_data(iris_net, "iris", seed=4)
    assert not np.array_equal(data.test.X, other.test.X)


def test_small_data_are_not_split_and_xor_targets_are_floats():
    data = load_data(sp.load("examples:xor"), "xor")
    assert data.test is None and data.task == "binary"
    assert data.train.Y.tolist() == [[0.0], [1.0], [1.0], [0.0]]


def test_standardize_uses_training_statistics(iris_net):
    data = load_data(iris_net, "iris", standardize=True)
    assert np.allclose(data.train.X.mean(axis=0), 0) and np.allclose(data.train.X.std(axis=0), 1)
    raw = load_data(iris_net, "iris")
    assert np.allclose(data.transform(raw.test.X), data.test.X)


def test_predicted_labels_and_accuracy():
    out = np.array([[0.1, 0.9], [0.8, 0.2]])
    assert predicted_labels(out, "multiclass").tolist() == [1, 0]
    assert predicted_labels(np.array([[0.7], [0.2]]), "binary").tolist() == [1, 0]
    assert accuracy(out, np.array([1, 1]), "multiclass") == 0.5


# ---------------------------------------------------------------- CSV and NPZ


def test_csv_with_class_names(tmp_path, iris_net):
    file = write_csv(tmp_path, iris_csv(["5.1,3.5,1.4,0.2,setosa", "7.0,3.2,4.7,1.4,versicolor",
                                         "6.3,3.3,6.0,2.5,virginica"]))
    data = load_data(iris_net, file, test_fraction=0)
    assert data.class_names == ("setosa", "versicolor", "virginica")
    assert data.train.labels.tolist() == [0, 1, 2]
    assert data.train.X[1].tolist() == [7.0, 3.2, 4.7, 1.4]


def test_csv_columns_chosen_by_name(tmp_path, regression_net):
    file = write_csv(tmp_path, "id,a,b,out,note\n1,0.5,1.5,2.0,9\n2,1.0,2.0,3.0,9\n")
    data = load_data(regression_net, file, features="a,b", target="out")
    assert data.task == "regression"
    assert data.train.X.tolist() == [[0.5, 1.5], [1.0, 2.0]]
    assert data.train.Y.tolist() == [[2.0], [3.0]]


def test_csv_numeric_labels_and_one_hot_columns(tmp_path, iris_net):
    labels = write_csv(tmp_path, iris_csv(["1,2,3,4,2", "1,2,3,4,0"]), "labels.csv")
    assert load_data(iris_net, labels).train.labels.tolist() == [2, 0]
    onehot = write_csv(tmp_path, "a,b,c,d,y0,y1,y2\n1,2,3,4,0,0,1\n", "onehot.csv")
    data = load_data(iris_net, onehot)
    assert data.train.Y.tolist() == [[0, 0, 1]] and data.train.labels.tolist() == [2]


def test_npz_default_and_named_arrays(tmp_path, iris_net):
    file = tmp_path / "d.npz"
    np.savez(file, X=np.ones((5, 4)), y=np.array([0, 1, 2, 1, 0]), feats=np.zeros((5, 4)))
    data = load_data(iris_net, file, test_fraction=0)
    assert data.train.labels.tolist() == [0, 1, 2, 1, 0]
    assert load_data(iris_net, file, features="feats").train.X.sum() == 0


# ---------------------------------------------------------------- bad data


BAD_CSV = [
    ("wrong columns", "a,b,c,label\n1,2,3,0\n", r"3 feature columns \(a, b, c\).*4 inputs"),
    ("non-numeric", iris_csv(["1,2,3,4,0", "1,x,3,4,0"]), r"row 2 \(line 3\), column 'sw'.*'x'"),
    ("nan", iris_csv(["1,2,3,4,0", "1,2,3,4,1", "nan,2,3,4,0"]), r"row 3 \(line 4\).*'sl'.*nan"),
    ("inf", iris_csv(["1,2,inf,4,0"]), r"row 1 \(line 2\), column 'pl'"),
    ("empty", "", "empty file"),
    ("header only", "sl,sw,pl,pw,species\n", "no data rows"),
    ("ragged", iris_csv(["1,2,3,4,0", "1,2,3,0"]), r"row 2 \(line 3\): 4 cells"),
    ("missing cell", iris_csv(["1,,3,4,0"]), r"row 1 \(line 2\), column 'sw': empty cell"),
    ("label out of range", iris_csv(["1,2,3,4,0", "1,2,3,4,3"]),
     r"row 2 \(line 3\), column 'species'.*label 3 is out of range for a 3-class net"),
    ("fractional label", iris_csv(["1,2,3,4,1.5"]), "label 1.5 is not a whole number"),
    ("too many classes", iris_csv(["1,2,3,4,a", "1,2,3,4,b", "1,2,3,4,c", "1,2,3,4,d"]),
     "4 classes"),
    ("no header", "1,2,3,4,0\n1,2,3,4,1\n", "header row"),
    ("unknown column", iris_csv(["1,2,3,4,0"]), "no column 'nope'"),
]


@pytest.mark.parametrize(("case", "text", "message"), BAD_CSV, ids=[c[0] for c in BAD_CSV])
def test_bad_csv_names_file_and_row(tmp_path, iris_net, case, text, message):
    file = write_csv(tmp_path, text)
    target = "nope" if case == "unknown column" else None
    with pytest.raises(sp.DataError, match=message) as info:
        load_data(iris_net, file, target=target)
    assert str(info.value).startswith(str(file))


def test_label_out_of_range_for_ten_classes(tmp_path):
    net = sp.load("examples:digits_64_32_10")
    file = tmp_path / "d.npz"
    np.savez(file, X=np.zeros((3, 64)), y=np.array([0, 9, 12]))
    with pytest.raises(sp.DataError, match=r"y\[2\].*label 12 is out of range for a 10-class"):
        load_data(net, file)


@pytest.mark.parametrize(("arrays", "message"), [
    ({"X": np.array([[1.0, np.nan, 0, 0]]), "y": np.array([0])}, r"X\[0, 1\] is nan"),
    ({"X": np.zeros((2, 4))}, "no array 'y'; arrays: X"),
    ({"X": np.zeros((2, 4)), "y": np.zeros(3)}, "'y' has 3 rows but 'X' has 2"),
    ({"X": np.zeros((0, 4)), "y": np.zeros(0)}, "no rows"),
    ({"X": np.array([["a", "b", "c", "d"]]), "y": np.zeros(1)}, "not numbers"),
])
def test_bad_npz(tmp_path, iris_net, arrays, message):
    file = tmp_path / "bad.npz"
    np.savez(file, **arrays)
    with pytest.raises(sp.DataError, match=message):
        load_data(iris_net, file)


def test_missing_file_and_bundled_mismatch(iris_net, tmp_path):
    with pytest.raises(sp.DataError, match="no such file; bundled data sets"):
        load_data(iris_net, tmp_path / "nothing.csv")
    with pytest.raises(sp.DataError, match="64 feature columns.*4 inputs; it fits a spec with 64"):
        load_data(iris_net, "digits")
    with pytest.raises(sp.DataError, match="not a zip|cannot read as NPZ"):
        (tmp_path / "broken.npz").write_bytes(b"PK\x03\x04 not really")
        load_data(iris_net, tmp_path / "broken.npz")


def test_a_folder_does_not_hide_a_bundled_data_set_but_a_file_does(iris_net, tmp_path,
                                                                    monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "iris").mkdir()  # e.g. the output of `symbprop generate` for a spec named iris
    assert load_data(iris_net, "iris", test_fraction=0).train.X.shape == (150, 4)
    (tmp_path / "iris").rmdir()
    (tmp_path / "iris").write_text("a,b,c,d,label\n1,2,3,4,0\n")
    assert load_data(iris_net, "iris", test_fraction=0).train.X.shape == (1, 4)
    assert load_data(iris_net, "datasets:iris", test_fraction=0).train.X.shape == (150, 4)


def test_data_for_an_expression_is_refused():
    with pytest.raises(sp.DataError, match="gradient descent"):
        load_data(sp.load("examples:quadratic"), "xor")


# ---------------------------------------------------------------- through the CLI


def test_cli_bad_data_exits_2_with_one_message(tmp_path):
    file = write_csv(tmp_path, iris_csv(["1,2,3,4,0", "1,2,3,4,7"]))
    result = CliRunner().invoke(app, ["train", IRIS, "--data", str(file), "--epochs", "1"])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert f"{file}: row 2 (line 3), column 'species': label 7 is out of range" in result.output


def test_cli_wrong_columns_exits_2(tmp_path):
    file = write_csv(tmp_path, "a,b,label\n1,2,0\n")
    result = CliRunner().invoke(app, ["train", IRIS, "--data", str(file)])
    assert result.exit_code == 2 and "2 feature columns" in result.output


# ---------------------------------------------------------------- files that are not what they say


def test_a_npy_file_renamed_to_npz_says_so(tmp_path, iris_net):
    for name in ("plain.npz", "plain.npy"):
        np.save(tmp_path / "tmp.npy", np.zeros((3, 4)))
        (tmp_path / "tmp.npy").rename(tmp_path / name)
        with pytest.raises(sp.DataError, match=r"a NumPy \.npy file \(one array\), not an \.npz "
                                               "archive"):
            load_data(iris_net, tmp_path / name)


def test_a_file_that_is_no_archive_is_not_called_pickled(tmp_path, iris_net):
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(bytes(range(7, 250)) * 4)
    with pytest.raises(sp.DataError, match=r"not a NumPy \.npz archive") as info:
        load_data(iris_net, garbage)
    assert "pickle" not in str(info.value)


def test_complex_and_object_npz_arrays_are_refused(tmp_path, iris_net):
    file = tmp_path / "c.npz"
    np.savez(file, X=np.ones((2, 4)) * (1 + 2j), y=np.zeros(2))
    with pytest.raises(sp.DataError, match=r"array 'X' holds complex numbers \(complex128\)"):
        load_data(iris_net, file)
    np.savez(file, X=np.array([[None] * 4], dtype=object), y=np.zeros(1))
    with pytest.raises(sp.DataError, match="array 'X' holds Python objects"):
        load_data(iris_net, file)


@pytest.mark.parametrize(("text", "message"), [
    ("sl;sw;pl;pw;species\n1;2;3;4;0\n",
     r"line 1: the header row 'sl;sw;pl;pw;species' is one column: the file is not "
     r"comma-separated \(it looks semicolon-separated, ';'\)"),
    ("sl\tsw\tpl\tpw\tspecies\n1\t2\t3\t4\t0\n", r"not comma-separated \(it looks tab-separated"),
    (iris_csv(["1_000,2,3,4,0"]), r"row 1 \(line 2\), column 'sl': '1_000' is not a number "
                                  r"\(digits only: no _"),
    (iris_csv(["1,2,3,4,1_0"]), r"column 'species': '1_0' is not a number"),
    (iris_csv(["1,２,3,4,0"]), r"column 'sw': '２' is not a number"),
])
def test_csv_numbers_and_separators_are_strict(tmp_path, iris_net, text, message):
    with pytest.raises(sp.DataError, match=message):
        load_data(iris_net, write_csv(tmp_path, text))


def test_a_column_named_twice_is_refused(tmp_path, regression_net):
    file = write_csv(tmp_path, "a,b,y\n0,1,1\n1,0,1\n")
    with pytest.raises(sp.DataError, match=r"the features \(--features\) name column 'a' twice"):
        load_data(regression_net, file, features="a,a")
    with pytest.raises(sp.DataError, match=r"the target \(--target\) name column 'y' twice"):
        load_data(regression_net, file, features="a,b", target=["y", "y"])


def test_the_split_seed_states_its_range(iris_net):
    with pytest.raises(sp.SymbpropError, match=r"seed: expected an integer with 0 ≤ seed < 2"):
        load_data(iris_net, "iris", seed=-1)


def test_cli_npy_as_data_and_init_exit_2(tmp_path):
    npy = tmp_path / "x.npz"
    with open(npy, "wb") as stream:
        np.save(stream, np.zeros((4, 2)))
    for option in (["--data", str(npy)], ["--data", "xor", "--init", str(npy)]):
        result = CliRunner().invoke(app, ["train", "examples:xor", *option, "--epochs", "1",
                                          "--no-progress"])
        assert result.exit_code == 2, result.output
        assert "Traceback" not in result.output and "not an .npz archive" in result.output
