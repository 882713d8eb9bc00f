import sys, itertools, warnings, time, numpy as np, torch
torch.set_num_threads(1); warnings.simplefilter("ignore")
from sklearn.datasets import make_moons, make_circles, make_gaussian_quantiles, make_classification
from sklearn.model_selection import cross_val_score, train_test_split, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.neural_network import MLPClassifier
from skneuronpursuit import NeuronPursuitClassifier
alphas=[float(a) for a in sys.argv[1:]] or [0.01,0.003,0.001]
def tasks(seed):
    rng=np.random.RandomState(seed)
    yield "moons", *make_moons(300, noise=0.2, random_state=seed)
    yield "circles", *make_circles(300, noise=0.1, factor=0.5, random_state=seed)
    yield "quantiles3", *make_gaussian_quantiles(n_samples=300, n_features=2, n_classes=3, random_state=seed)
    Z=rng.normal(size=(400,2)); yield "xor", Z, ((Z[:,0]*Z[:,1]>0)^(rng.uniform(size=400)<0.05)).astype(int)
    yield "classif10", *make_classification(500, 10, n_informative=5, random_state=seed)
res={}
for seed in range(3):
    for name,X,y in tasks(seed):
        cv=StratifiedKFold(3,shuffle=True,random_state=seed)
        for a in alphas:
            t=time.time(); s=cross_val_score(make_pipeline(StandardScaler(),NeuronPursuitClassifier(alpha=a,random_state=seed)),X,y,cv=cv).mean()
            res.setdefault((name,a),[]).append((s,time.time()-t))
        s=cross_val_score(make_pipeline(StandardScaler(),MLPClassifier(early_stopping=True,random_state=seed)),X,y,cv=cv).mean()
        res.setdefault((name,'mlp'),[]).append((s,0))
for k,v in res.items(): print(k, "mean acc %.3f"%np.mean([a for a,_ in v]), "secs %.1f"%np.sum([t for _,t in v]))
p=23
pairs=np.array(list(itertools.product(range(p),range(p))))
X=np.zeros((len(pairs),2*p)); X[np.arange(len(pairs)),pairs[:,0]]=1; X[np.arange(len(pairs)),p+pairs[:,1]]=1
y=(pairs.sum(1))%p
for a in alphas:
    accs=[]
    for seed in range(3):
        Xtr,Xte,ytr,yte=train_test_split(X,y,train_size=0.5,random_state=seed)
        c=NeuronPursuitClassifier(depth=2,activation_power=2,negative_slope=-1.0,loss="squared_error",alpha=a,random_state=seed).fit(Xtr,ytr)
        accs.append(round(c.score(Xte,yte),3))
    print("modadd23 README call alpha",a,accs)
