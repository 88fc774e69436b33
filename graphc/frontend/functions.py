"""``gc.exp``, ``gc.tanh``, ...: the handle of every public function of the op table,
spelled out so that editors and type checkers see them (``tests/test_layers.py`` checks
this list is the table's)."""

from .handles import function

abs = function("abs")
cos = function("cos")
cross_entropy = function("cross_entropy")
elu = function("elu")
exp = function("exp")
flip = function("flip")
leaky_relu = function("leaky_relu")
log = function("log")
log_softmax = function("log_softmax")
logsumexp = function("logsumexp")
maximum = function("maximum")
mean = function("mean")
minimum = function("minimum")
mse = function("mse")
relu = function("relu")
sigmoid = function("sigmoid")
sin = function("sin")
slice = function("slice")
softmax = function("softmax")
softplus = function("softplus")
sqrt = function("sqrt")
sum = function("sum")
tan = function("tan")
tanh = function("tanh")
