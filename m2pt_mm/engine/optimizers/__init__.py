from .layer_decay import PathwayLayerDecayOptimWrapperConstructor, whole_model_layer_depth

__all__ = ['PathwayLayerDecayOptimWrapperConstructor', 'whole_model_layer_depth']
