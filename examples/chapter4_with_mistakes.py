# 4장 신경망 학습 정리
# 책(밑바닥부터 시작하는 딥러닝) 보면서 직접 따라 친 코드
import numpy as np


# --- 3장 복습: 활성화 함수 ---
def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def sigmoid_grad(x):
    return (1.0 - sigmoid(x)) * sigmoid(x)


def softmax(x):
    if x.ndim == 2:  # 배치 입력: 행마다 소프트맥스
        x = x - np.max(x, axis=1, keepdims=True)
        return np.exp(x) / np.sum(np.exp(x), axis=1, keepdims=True)

    x = x - np.max(x)  # 오버플로 대책
    return np.exp(x) / np.sum(np.exp(x))


# --- 손실 함수 ---
# 오차제곱합: E = 1/2 * Σ(y_k - t_k)^2
def sum_squares_error(y, t):
    return 0.5 * np.sum((y - t) ** 2)


t = np.array([0, 0, 1, 0, 0, 0, 0, 0, 0, 0])  # 정답은 2
y = np.array([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0])
print("SSE:", sum_squares_error(y, t))  # 0.0975 나오면 맞음


# 교차 엔트로피 오차: E = -Σ t_k log y_k  (배치면 N으로 나눠서 평균)
def cross_entropy_error(y, t):
    if y.ndim == 1:  # 데이터 1개면 배치 1개짜리로 바꿈
        t = t.reshape(1, t.size)
        y = y.reshape(1, y.size)

    batch_size = y.shape[0]
    return -np.sum(t * np.log(y)) / batch_size


# 내가 만든 예시 (정답 2에 0.6)
y = np.array([0.1, 0.05, 0.6, 0.05, 0.05, 0.05, 0.02, 0.03, 0.03, 0.02])
print("CEE:", cross_entropy_error(y, t))  # 약 0.51


# --- 수치 미분 ---
def numerical_diff(f, x):
    h = 1e-4  # 0.0001 정도가 적당하다고 함
    return (f(x + h) - f(x)) / h


def function_1(x):
    return 0.01 * x ** 2 + 0.1 * x


print(numerical_diff(function_1, 5))   # 해석적으로는 0.2
print(numerical_diff(function_1, 10))  # 해석적으로는 0.3


# --- 기울기 (편미분을 벡터로 묶은 것) ---
def numerical_gradient(f, x):
    h = 1e-4
    grad = np.zeros_like(x)

    # 가중치 행렬(2차원)에도 쓸 수 있게 nditer 사용
    it = np.nditer(x, flags=['multi_index'], op_flags=['readwrite'])
    while not it.finished:
        idx = it.multi_index
        tmp_val = x[idx]

        x[idx] = float(tmp_val) + h
        fxh1 = f(x)  # f(x+h)

        x[idx] = tmp_val - h
        fxh2 = f(x)  # f(x-h)

        grad[idx] = (fxh1 - fxh2) / (2 * h)
        x[idx] = tmp_val  # 원래 값으로 되돌림
        it.iternext()

    return grad


def function_2(x):
    return np.sum(x ** 2)


print(numerical_gradient(function_2, np.array([3.0, 4.0])))  # [6. 8.]


# --- 경사하강법 ---
def gradient_descent(f, init_x, lr=0.01, step_num=100):
    x = init_x

    for i in range(step_num):
        grad = numerical_gradient(f, x)
        x -= lr * grad  # 기울기 반대 방향으로 lr만큼 이동

    return x


init_x = np.array([-3.0, 4.0])
print(gradient_descent(function_2, init_x=init_x, lr=0.1, step_num=100))  # (0, 0) 근처


# --- 신경망에서의 기울기 ---
class simpleNet:
    def __init__(self):
        self.W = np.random.randn(2, 3)  # 가우시안 분포로 초기화

    def predict(self, x):
        return np.dot(x, self.W)

    def loss(self, x, t):
        z = self.predict(x)
        y = softmax(z)
        return cross_entropy_error(y, t)


net = simpleNet()
x = np.array([0.6, 0.9])
t = np.array([0, 0, 1])
print(net.predict(x))
print(net.loss(x, t))

dW = numerical_gradient(lambda w: net.loss(x, t), net.W)
print(dW)  # W와 같은 (2, 3) 형상


# --- 2층 신경망 ---
class TwoLayerNet:
    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01):
        self.params = {}
        self.params['W1'] = weight_init_std * np.random.randn(input_size, hidden_size)
        self.params['b1'] = np.zeros(hidden_size)
        self.params['W2'] = weight_init_std * np.random.randn(hidden_size, output_size)
        self.params['b2'] = np.zeros(output_size)

    def predict(self, x):
        W1, W2 = self.params['W1'], self.params['W2']
        b1, b2 = self.params['b1'], self.params['b2']

        a1 = np.dot(x, W1) + b1
        z1 = sigmoid(a1)
        a2 = np.dot(z1, W2) + b2
        return softmax(a2)

    def loss(self, x, t):
        y = self.predict(x)
        return cross_entropy_error(y, t)

    def accuracy(self, x, t):
        y = self.predict(x)
        y = np.argmax(y, axis=1)  # 가장 확률 높은 클래스

        accuracy = np.sum(y == t) / float(x.shape[0])
        return accuracy

    def numerical_gradient(self, x, t):
        loss_W = lambda W: self.loss(x, t)

        grads = {}
        grads['W1'] = numerical_gradient(loss_W, self.params['W1'])
        grads['b1'] = numerical_gradient(loss_W, self.params['b1'])
        grads['W2'] = numerical_gradient(loss_W, self.params['W2'])
        grads['b2'] = numerical_gradient(loss_W, self.params['b2'])
        return grads

    # 5장 오차역전파법 버전 (훨씬 빠름)
    def gradient(self, x, t):
        W1, W2 = self.params['W1'], self.params['W2']
        b1, b2 = self.params['b1'], self.params['b2']
        grads = {}

        batch_num = x.shape[0]

        # 순전파
        a1 = np.dot(x, W1) + b1
        z1 = sigmoid(a1)
        a2 = np.dot(z1, W2) + b2
        y = softmax(a2)

        # 역전파
        dy = (y - t) / batch_num
        grads['W2'] = np.dot(z1.T, dy)
        grads['b2'] = np.sum(dy, axis=0)

        dz1 = np.dot(dy, W2.T)
        da1 = sigmoid_grad(a1) * dz1
        grads['W1'] = np.dot(x.T, da1)
        grads['b1'] = np.sum(da1, axis=0)
        return grads


net = TwoLayerNet(input_size=784, hidden_size=50, output_size=10)
print(net.params['W1'].shape, net.params['b1'].shape)  # (784, 50) (50,)
print(net.params['W2'].shape, net.params['b2'].shape)  # (50, 10) (10,)
